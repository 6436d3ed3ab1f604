/** Issuer specs are validated at construction: misconfiguration fails at boot (style-anchors §3.2). */
import { describe, expect, it } from 'vitest'
import { createTokenVerifier, type IssuerSpec } from '../../src/identity/index.js'
import { generateKeyMaterial } from '../fixtures/issuers/keys.js'
import { githubSpec } from './helpers.js'

const { publicJwk } = await generateKeyMaterial('ec', 'k1')
const inline = (overrides: Partial<IssuerSpec> = {}): IssuerSpec =>
  githubSpec('https://token.actions.githubusercontent.com', { jwks: { kind: 'keys', keys: [publicJwk] }, allowInsecureHttp: false, ...overrides })

describe('createTokenVerifier configuration', () => {
  it('accepts a valid configuration and reports inline keys ready', () => {
    const verifier = createTokenVerifier([inline(), inline({ id: 'gitlab', issuer: 'https://gitlab.com' })])
    expect(verifier.health().map((h) => [h.id, h.state])).toEqual([
      ['github', 'ready'],
      ['gitlab', 'ready'],
    ])
    verifier.close()
  })

  it.each<[string, IssuerSpec[], RegExp]>([
    ['duplicate id', [inline(), inline({ issuer: 'https://gitlab.com' })], /issuer "github": duplicate issuer id/],
    ['duplicate issuer', [inline(), inline({ id: 'github-2' })], /issuer "github-2": issuer already configured/],
    ['alg none', [inline({ algorithms: ['none'] })], /issuer "github": algorithm none is not allowed/],
    ['symmetric alg', [inline({ algorithms: ['RS256', 'HS256'] })], /issuer "github": algorithm HS256 is not allowed/],
    ['no algorithms', [inline({ algorithms: [] })], /issuer "github": algorithms must be a non-empty list/],
    ['empty audience', [inline({ audience: '' })], /issuer "github": audience must be a non-empty string/],
    ['empty issuer', [inline({ issuer: '' })], /issuer "github": issuer must be/],
    ['bad lifetime', [inline({ maxLifetimeMs: 0 })], /issuer "github": maxLifetimeMs/],
    ['bad max age', [inline({ maxAgeMs: Number.NaN })], /issuer "github": maxAgeMs/],
    ['bad skew', [inline({ clockSkewMs: -1 })], /issuer "github": clockSkewMs/],
    ['empty typ', [inline({ typ: '' })], /issuer "github": typ/],
    ['no inline keys', [inline({ jwks: { kind: 'keys', keys: [] } })], /issuer "github": jwks.keys/],
    ['private inline key', [inline({ jwks: { kind: 'keys', keys: [{ ...publicJwk, d: 'secret' }] } })], /issuer "github": inline keys contains private/],
    ['symmetric inline key', [inline({ jwks: { kind: 'keys', keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } })], /issuer "github": inline keys contains private or symmetric/],
    ['http discovery', [githubSpec('http://issuer.example', { allowInsecureHttp: false })], /issuer "github": issuer \(discovery\) must use https/],
    ['http jwks uri', [inline({ jwks: { kind: 'uri', uri: new URL('http://issuer.example/jwks') } })], /issuer "github": jwks.uri must use https/],
    ['credentials in uri', [inline({ jwks: { kind: 'uri', uri: new URL('https://u:p@issuer.example/jwks') } })], /must not carry credentials/],
    ['discovery on a non-URL issuer', [inline({ issuer: 'github', jwks: { kind: 'discovery' } })], /issuer "github": issuer is not a URL/],
    ['empty file path', [inline({ jwks: { kind: 'file', path: '' } })], /issuer "github": jwks.path/],
  ])('rejects %s', (_name, specs, message) => {
    expect(() => createTokenVerifier(specs)).toThrow(message)
  })

  it('allows http only for issuers marked allowInsecureHttp', () => {
    const verifier = createTokenVerifier([githubSpec('http://127.0.0.1:1', { allowInsecureHttp: true })])
    expect(verifier.health()[0]?.state).toBe('unavailable')
    verifier.close()
  })

  it('validates verifier options', () => {
    expect(() => createTokenVerifier([inline()], { fetchTimeoutMs: 0 })).toThrow(/fetchTimeoutMs/)
    expect(() => createTokenVerifier([inline()], { cooldownMs: -1 })).toThrow(/cooldownMs/)
    expect(() => createTokenVerifier([inline()], { cacheMaxAgeMs: Number.NaN })).toThrow(/cacheMaxAgeMs/)
  })

  it('rejects an out-of-range maxTokenBytes as a programming error', async () => {
    const verifier = createTokenVerifier([inline()])
    await expect(verifier.verify('a.b.c', { maxTokenBytes: 0 })).rejects.toThrow(TypeError)
    await expect(verifier.verify('a.b.c', { maxTokenBytes: 1 << 20 })).rejects.toThrow(TypeError)
  })
})
