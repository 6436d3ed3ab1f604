/**
 * What plain jose does on its own (workload-identity.md §2.3, §3), pinned as tests so the reasons for
 * each wrapper step stay visible and a jose upgrade that changes them is noticed:
 * - a typical `jwtVerify(token, JWKS, {issuer, audience, algorithms})` accepts the catalogue entries
 *   marked "(plain jwtVerify accepts)", which the strict verifier rejects;
 * - jose's remote set keeps its cache when an unknown-kid refetch fails, but once the cache is older
 *   than `cacheMaxAge` a failed refetch fails every verification: hence stale-if-error.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose'
import { startFakeIssuer } from '../fixtures/issuers/fake-issuer.js'
import { buildVectorToken, createVectorContext, loadTokenVectors, type TokenVector, type VectorContext } from '../fixtures/issuers/token-factory.js'

const vectors = new Map((await loadTokenVectors()).map((v) => [v.id, v]))
const vector = (id: string): TokenVector => {
  const found = vectors.get(id)
  if (found === undefined) throw new Error(`no vector ${id}`)
  return found
}

/** Node 20 has no Uint8Array.fromBase64: jose falls back to atob, which ignores padding and spare bits. */
const lenientBase64 = typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64 !== 'function'

describe('plain jwtVerify accepts what the strict verifier rejects', () => {
  const plainAccepts = [
    'x5u-header',
    'x5c-header',
    'zip-deflate',
    'unknown-header-param',
    'duplicate-alg-header',
    'iat-in-future',
    'missing-exp',
    'missing-iat',
    'missing-sub',
    'exp-infinite',
    'lifetime-30-days',
    'old-but-unexpired',
    'audience-multiple',
    'sub-array',
    'duplicate-sub-payload',
    'oversized-token',
    'kid-missing',
    'typ-missing-where-at-jwt-required',
    ...(lenientBase64 ? ['base64url-padding', 'base64url-spare-bits', 'base64url-line-break'] : []),
  ]

  let ctx: VectorContext
  beforeAll(async () => {
    ctx = await createVectorContext()
  })

  it.each(plainAccepts)('%s', async (id) => {
    const v = vector(id)
    const keys = ctx.issuers[v.issuer ?? 'primary']
    const token = await buildVectorToken(v, ctx)
    const result = await jwtVerify(token, createLocalJWKSet(keys.jwks()), {
      issuer: keys.issuer,
      audience: ctx.audience,
      algorithms: ['RS256', 'ES256'],
      currentDate: new Date(ctx.now),
    })
    expect(result.payload).toBeTypeOf('object')
  })

  it('cross-issuer-key: a merged JWKS with issuer [A, B] accepts B signing for A (#34)', async () => {
    const token = await buildVectorToken(vector('cross-issuer-key'), ctx)
    const merged = { keys: [...ctx.issuers.primary.jwks().keys, ...ctx.issuers.other.jwks().keys] }
    const result = await jwtVerify(token, createLocalJWKSet(merged), {
      issuer: [ctx.issuers.primary.issuer, ctx.issuers.other.issuer],
      audience: ctx.audience,
      currentDate: new Date(ctx.now),
    })
    expect(result.payload.iss).toBe(ctx.issuers.primary.issuer)
  })
})

describe('jose remote JWKS cache when the endpoint fails', () => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
  })

  it('keeps the cache after a failed unknown-kid refetch while the cache is fresh', async () => {
    const gh = await startFakeIssuer()
    closers.push(() => gh.close())
    const jwks = createRemoteJWKSet(new URL(gh.jwksUri), { cooldownDuration: 0, cacheMaxAge: 60_000 })
    await jwtVerify(await gh.mint(), jwks)
    gh.setMode('down')
    const unknown = await jwtVerify(await gh.mint({}, { kid: 'unknown' }), jwks).catch((e: { code?: string }) => e.code)
    expect(unknown).toBe('ERR_JOSE_GENERIC') // the fetch error, not ERR_JWKS_NO_MATCHING_KEY
    await expect(jwtVerify(await gh.mint(), jwks)).resolves.toBeTruthy()
  })

  it('fails every verification once the cache is older than cacheMaxAge and the refetch fails', async () => {
    const gh = await startFakeIssuer()
    closers.push(() => gh.close())
    vi.useFakeTimers({ toFake: ['Date'] }) // jose ages its cache with Date.now(): move that clock, do not sleep
    closers.push(async () => {
      vi.useRealTimers()
    })
    const jwks = createRemoteJWKSet(new URL(gh.jwksUri), { cacheMaxAge: 100 })
    await jwtVerify(await gh.mint(), jwks)
    gh.setMode('down')
    vi.setSystemTime(Date.now() + 150)
    const code = await jwtVerify(await gh.mint(), jwks).then(() => 'valid', (e: { code?: string }) => e.code)
    expect(code).toBe('ERR_JOSE_GENERIC')
    expect(jwks.jwks()?.keys.length).toBe(2) // the keys are still held, just not used
  })
})
