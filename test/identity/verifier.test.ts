/** Verifier behaviour not expressed as vectors: error hygiene, output shape, routing, algorithms. */
import { describe, expect, it } from 'vitest'
import { createTokenVerifier, TokenError } from '../../src/identity/index.js'
import { githubClaims } from '../fixtures/issuers/claims.js'
import { generateIssuerKeys, generateKeyMaterial, signCompact } from '../fixtures/issuers/keys.js'
import { mintToken } from '../fixtures/issuers/mint.js'
import { AUDIENCE, githubSpec, reasonOf } from './helpers.js'

const NOW = 1_800_000_000_000
const gh = await generateIssuerKeys('https://token.actions.githubusercontent.com', 'gh')
const gl = await generateIssuerKeys('https://gitlab.com', 'gl')
const verifier = createTokenVerifier(
  [
    githubSpec(gh.issuer, { jwks: { kind: 'keys', keys: gh.jwks().keys }, allowInsecureHttp: false }),
    githubSpec(gl.issuer, { id: 'gitlab', jwks: { kind: 'keys', keys: gl.jwks().keys }, allowInsecureHttp: false }),
  ],
  { now: () => NOW },
)

describe('verify', () => {
  it('routes by exact iss to the issuer config and returns a frozen header', async () => {
    const a = await verifier.verify(mintToken(gh, {}, { now: NOW }))
    const b = await verifier.verify(mintToken(gl, {}, { now: NOW, alg: 'ES256' }))
    expect([a.issuerId, b.issuerId]).toEqual(['github', 'gitlab'])
    expect(Object.isFrozen(a.header)).toBe(true)
    expect(() => {
      ;(a.claims as Record<string, unknown>).sub = 'admin'
    }).toThrow(TypeError)
  })

  it('uses the injected clock', async () => {
    const minted = mintToken(gh, {}, { now: NOW - 3_600_000 })
    expect(await reasonOf(verifier.verify(minted))).toBe('expired')
    const lenient = createTokenVerifier([githubSpec(gh.issuer, { jwks: { kind: 'keys', keys: gh.jwks().keys } })], { now: () => NOW - 3_600_000 })
    expect(await reasonOf(lenient.verify(minted))).toBe('valid')
  })

  it('accepts requireJti when jti is present', async () => {
    expect(await reasonOf(verifier.verify(mintToken(gh, {}, { now: NOW }), { requireJti: true }))).toBe('valid')
  })

  it('treats a non-string token as malformed', async () => {
    expect(await reasonOf(verifier.verify(undefined as unknown as string))).toBe('malformed')
    expect(await reasonOf(verifier.verify(42 as unknown as string))).toBe('malformed')
  })

  it('rejects a kid of the other key type (ES256 header, RSA kid) as unknown', async () => {
    const token = mintToken(gh, {}, { now: NOW, alg: 'ES256', kid: gh.rsa.kid })
    expect(await reasonOf(verifier.verify(token))).toBe('unknown_kid')
  })

  it('verifies EdDSA issuers', async () => {
    const ed = await generateKeyMaterial('ed25519')
    const edVerifier = createTokenVerifier(
      [githubSpec('https://spire.example', { jwks: { kind: 'keys', keys: [ed.publicJwk] }, algorithms: ['EdDSA'], allowInsecureHttp: false })],
      { now: () => NOW },
    )
    const claims = githubClaims('https://spire.example', AUDIENCE, NOW / 1000)
    const token = signCompact(JSON.stringify({ alg: 'EdDSA', kid: ed.kid }), JSON.stringify(claims), 'EdDSA', ed.privateKey)
    expect((await edVerifier.verify(token)).header).toEqual({ alg: 'EdDSA', kid: ed.kid })
  })
})

describe('TokenError hygiene', () => {
  it('keeps neither the token, the claims nor the jose error', async () => {
    const token = mintToken(gh, { sub: 'repo:secret-org/secret-repo:ref:refs/heads/main' }, { now: NOW - 3_600_000 })
    const error = await verifier.verify(token).catch((e: unknown) => e)
    expect(TokenError.is(error)).toBe(true)
    const err = error as TokenError
    expect(err).toMatchObject({ name: 'TokenError', reason: 'expired', claim: 'exp', issuerId: 'github', detail: 'ERR_JWT_EXPIRED' })
    expect(err.message).toBe('token rejected: expired (exp)')
    expect(err.cause).toBeUndefined()
    const serialised = JSON.stringify({ ...err, message: err.message, stack: err.stack })
    expect(serialised).not.toContain('secret-org')
    for (const part of token.split('.')) expect(serialised).not.toContain(part)
  })

  it('is recognised across copies by its registered brand', () => {
    expect(TokenError.is(new TokenError('claims'))).toBe(true)
    expect(TokenError.is(new Error('token rejected: claims'))).toBe(false)
    expect(TokenError.is({ reason: 'claims' })).toBe(false)
  })
})
