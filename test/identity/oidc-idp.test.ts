/**
 * A real `oidc-provider` v9 IdP (workload-identity.md §12) issuing RFC 9068 `at+jwt` access tokens
 * by client credentials; the tokens verify through discovery with `typ: at+jwt`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenVerifier, type IssuerSpec, type TokenVerifier } from '../../src/identity/index.js'
import { startOidcIdp, type OidcIdp } from '../fixtures/issuers/oidc-idp.js'
import { reasonOf } from './helpers.js'

const RESOURCE = 'https://skillgate.example/claude'
const SECRET = 'nightly-secret-0123456789abcdef'

describe('oidc-provider RFC 9068 tokens', () => {
  let idp: OidcIdp
  let verifier: TokenVerifier
  let spec: IssuerSpec

  beforeAll(async () => {
    idp = await startOidcIdp({
      audience: RESOURCE,
      clients: [{ clientId: 'nightly-summarizer', clientSecret: SECRET, scope: 'claude:messages skill:summarize', groups: ['team-docs', 'ai-batch'] }],
    })
    spec = {
      id: 'corp-idp',
      issuer: idp.issuer,
      jwks: { kind: 'discovery' },
      audience: RESOURCE,
      algorithms: ['ES256'],
      maxLifetimeMs: 10 * 60_000,
      clockSkewMs: 30_000,
      requiredClaims: ['client_id', 'jti'],
      typ: 'at+jwt',
      allowInsecureHttp: true,
    }
    verifier = createTokenVerifier([spec])
    await verifier.warmUp()
  })
  afterAll(async () => {
    verifier.close()
    await idp.close()
  })

  it('discovers the IdP and verifies its at+jwt access token', async () => {
    expect(verifier.health()[0]?.state).toBe('ready')
    const token = await idp.getToken('nightly-summarizer', SECRET, 'claude:messages skill:summarize')
    const verified = await verifier.verify(token, { requireJti: true })
    expect(verified.issuerId).toBe('corp-idp')
    expect(verified.header).toEqual({ alg: 'ES256', kid: idp.publicJwk.kid, typ: 'at+jwt' })
    expect(verified.claims).toMatchObject({
      iss: idp.issuer,
      aud: RESOURCE,
      sub: 'nightly-summarizer',
      client_id: 'nightly-summarizer',
      scope: 'claude:messages skill:summarize',
      groups: ['team-docs', 'ai-batch'],
    })
    const { exp, iat } = verified.claims as { exp: number; iat: number }
    expect(exp - iat).toBe(300)
  })

  it('a token requested without scope carries no scope claim (treat as no permissions)', async () => {
    const verified = await verifier.verify(await idp.getToken('nightly-summarizer', SECRET))
    expect(verified.claims.scope).toBeUndefined()
  })

  it('the IdP refuses a scope outside the client registration', async () => {
    await expect(idp.getToken('nightly-summarizer', SECRET, 'skill:code-review')).rejects.toThrow(/invalid_scope/)
    await expect(idp.getToken('nightly-summarizer', 'wrong-secret')).rejects.toThrow(/invalid_client/)
  })

  it('the same token fails at an issuer configured for another audience or a shorter lifetime', async () => {
    const token = await idp.getToken('nightly-summarizer', SECRET, 'claude:messages')
    const otherAudience = createTokenVerifier([{ ...spec, audience: 'https://skillgate.example/other' }])
    const shortLived = createTokenVerifier([{ ...spec, maxLifetimeMs: 60_000 }])
    expect(await reasonOf(otherAudience.verify(token))).toBe('claims')
    expect(await reasonOf(shortLived.verify(token))).toBe('lifetime')
  })
})
