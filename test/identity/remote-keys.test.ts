/**
 * Remote key sets against a running fake issuer (workload-identity.md §3): discovery, refetch
 * cooldown (catalogue #42), rotation, stale-if-error, slow and dead endpoints (#44), no redirects,
 * weak keys (#6).
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTokenVerifier, type TokenVerifier } from '../../src/identity/index.js'
import { githubClaims } from '../fixtures/issuers/claims.js'
import { startFakeIssuer, type FakeIssuer } from '../fixtures/issuers/fake-issuer.js'
import { generateKeyMaterial, signCompact } from '../fixtures/issuers/keys.js'
import { AUDIENCE, githubSpec, reasonOf } from './helpers.js'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
  vi.useRealTimers()
})

/**
 * Cooldowns and cache ages are measured with `Date.now()` (jose's cache and our tracker alike), so
 * the tests move a fake wall clock instead of sleeping; network timeouts keep real timers.
 */
function fakeClock(): { advance: (ms: number) => void } {
  vi.useFakeTimers({ toFake: ['Date'] })
  return { advance: (ms) => vi.setSystemTime(Date.now() + ms) }
}

async function setup(
  verifierOptions: Parameters<typeof createTokenVerifier>[1] = {},
  issuerOptions: Parameters<typeof startFakeIssuer>[0] = {},
): Promise<{ gh: FakeIssuer; verifier: TokenVerifier }> {
  const gh = await startFakeIssuer(issuerOptions)
  cleanup.push(() => gh.close())
  const verifier = createTokenVerifier([githubSpec(gh.issuer)], verifierOptions)
  cleanup.push(() => verifier.close())
  return { gh, verifier }
}

describe('discovery', () => {
  it('loads keys through the discovery document and verifies a GitHub-shaped token', async () => {
    const { gh, verifier } = await setup()
    await verifier.warmUp()
    const [health] = verifier.health()
    expect(health).toMatchObject({ id: 'github', issuer: gh.issuer, state: 'ready' })
    expect(health?.keysFetchedAt).toBeGreaterThan(Date.now() - 10_000)
    const verified = await verifier.verify(await gh.mint({ repository_owner_id: '162148032' }))
    expect(verified).toMatchObject({ issuerId: 'github', header: { alg: 'RS256', typ: 'JWT' } })
    expect(verified.claims.repository_owner_id).toBe('162148032')
    expect(gh.discoveryCount).toBe(1)
    expect(gh.fetchCount).toBe(1)
  })

  it('refuses a discovery document whose issuer differs, without fetching its JWKS', async () => {
    const { gh, verifier } = await setup({}, { discoveryIssuer: 'https://evil.example' })
    await verifier.warmUp()
    expect(verifier.health()[0]).toMatchObject({ state: 'unavailable', detail: 'discovery document issuer does not match' })
    expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('issuer_unavailable')
    expect(gh.fetchCount).toBe(0)
  })

  it('supports an issuer with a path (GHEC per-enterprise issuer)', async () => {
    const { gh, verifier } = await setup({}, { issuerPath: '/octo-enterprise' })
    expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('valid')
  })

  it('supports a pinned JWKS uri', async () => {
    const gh = await startFakeIssuer()
    cleanup.push(() => gh.close())
    const verifier = createTokenVerifier([githubSpec(gh.issuer, { jwks: { kind: 'uri', uri: new URL(gh.jwksUri) } })])
    expect(await reasonOf(verifier.verify(await gh.mint({}, { alg: 'ES256' })))).toBe('valid')
    expect(gh.discoveryCount).toBe(0)
  })

  it('follows no redirect', async () => {
    const { gh, verifier } = await setup()
    gh.setMode('redirect')
    await verifier.warmUp()
    expect(verifier.health()[0]).toMatchObject({ state: 'unavailable', detail: 'JWKS answered HTTP 302' })
  })

  it('refuses an oversized JWKS response', async () => {
    const { gh, verifier } = await setup()
    const { publicJwk } = await generateKeyMaterial('ec')
    gh.publish(Array.from({ length: 2000 }, (_, i) => ({ ...publicJwk, kid: `bulk-${i}` })))
    await verifier.warmUp()
    expect(verifier.health()[0]).toMatchObject({ state: 'unavailable', detail: 'JWKS response too large' })
  })
})

describe('unknown-kid flood (catalogue #42)', () => {
  const flood = (gh: FakeIssuer) => Promise.all(Array.from({ length: 50 }, () => gh.mint({}, { kid: randomUUID() })))

  it('50 random kids inside the cooldown cause 0 extra fetches', async () => {
    const { gh, verifier } = await setup({ cooldownMs: 30_000 })
    await verifier.warmUp()
    expect(gh.fetchCount).toBe(1)
    const reasons = await Promise.all((await flood(gh)).map((t) => reasonOf(verifier.verify(t))))
    expect(new Set(reasons)).toEqual(new Set(['unknown_kid']))
    expect(gh.fetchCount).toBe(1)
  })

  it('a cold flood shares one in-flight fetch', async () => {
    const { gh, verifier } = await setup()
    const reasons = await Promise.all((await flood(gh)).map((t) => reasonOf(verifier.verify(t))))
    expect(new Set(reasons)).toEqual(new Set(['unknown_kid']))
    expect(gh.fetchCount).toBe(1)
  })

  it('after the cooldown, a flood triggers exactly one refetch', async () => {
    const clock = fakeClock()
    const { gh, verifier } = await setup({ cooldownMs: 200 })
    await verifier.warmUp()
    clock.advance(250)
    await Promise.all((await flood(gh)).map((t) => reasonOf(verifier.verify(t))))
    expect(gh.fetchCount).toBe(2)
  })
})

describe('rotation', () => {
  it('picks up a new key after the cooldown without a restart; old tokens keep verifying', async () => {
    const clock = fakeClock()
    const { gh, verifier } = await setup({ cooldownMs: 2_000 })
    await verifier.warmUp()
    const oldToken = await gh.mint()
    await gh.rotate()
    const newToken = await gh.mint()
    clock.advance(1_990)
    expect(await reasonOf(verifier.verify(newToken))).toBe('unknown_kid') // inside the cooldown
    clock.advance(60)
    expect(await reasonOf(verifier.verify(newToken))).toBe('valid')
    expect(await reasonOf(verifier.verify(oldToken))).toBe('valid')
    expect(gh.fetchCount).toBe(2)
  })
})

describe('JWKS endpoint failures (catalogue #44)', () => {
  it('keeps serving cached keys when a refetch fails, reports degraded, and backs off', async () => {
    const clock = fakeClock()
    const { gh, verifier } = await setup({ cooldownMs: 500, cacheMaxAgeMs: 100 })
    await verifier.warmUp()
    gh.setMode('down')
    clock.advance(150) // cache is now older than cacheMaxAge: jose refetches before use
    expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('valid')
    expect(verifier.health()[0]).toMatchObject({ state: 'degraded', detail: 'JWKS answered HTTP 503' })
    expect(gh.fetchCount).toBe(2)
    for (let i = 0; i < 5; i++) expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('valid')
    expect(await reasonOf(verifier.verify(await gh.mint({}, { kid: 'rotated-away' })))).toBe('unknown_kid')
    expect(gh.fetchCount).toBe(2) // backoff: no fetch per request towards a dead endpoint
    gh.setMode('up')
    clock.advance(550)
    expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('valid')
    expect(verifier.health()[0]?.state).toBe('ready')
  })

  it('an issuer whose keys never loaded is unavailable, fails closed, and recovers', async () => {
    const clock = fakeClock()
    const { gh, verifier } = await setup({ cooldownMs: 300 })
    gh.setMode('down')
    await verifier.warmUp()
    expect(verifier.health()[0]).toMatchObject({ state: 'unavailable', detail: 'JWKS answered HTTP 503' })
    expect(verifier.health()[0]?.keysFetchedAt).toBeUndefined()
    expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('issuer_unavailable')
    expect(gh.fetchCount).toBe(1)
    gh.setMode('up')
    clock.advance(350)
    expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('valid')
    expect(verifier.health()[0]?.state).toBe('ready')
  })

  it('a tarpitted JWKS times out within fetchTimeoutMs; later requests fail fast', async () => {
    const { gh, verifier } = await setup({ fetchTimeoutMs: 1_000, cooldownMs: 10_000 })
    gh.setMode('slow')
    const started = Date.now()
    await verifier.warmUp()
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(verifier.health()[0]).toMatchObject({ state: 'unavailable', detail: 'JWKS timed out' })
    const again = Date.now()
    expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('issuer_unavailable')
    expect(Date.now() - again).toBeLessThan(600) // no second 1 s timeout: backoff
    expect(gh.fetchCount).toBe(1)
  })

  it('a tarpitted refetch costs one timeout, then cached keys serve and unknown kids are rejected', async () => {
    const { gh, verifier } = await setup({ fetchTimeoutMs: 1_000, cooldownMs: 10_000, cacheMaxAgeMs: 100 })
    await verifier.warmUp()
    gh.setMode('slow')
    await new Promise((resolve) => setTimeout(resolve, 150)) // real time: the refetch below must time out for real
    expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('valid')
    expect(verifier.health()[0]).toMatchObject({ state: 'degraded', detail: 'JWKS timed out' })
    const fast = Date.now()
    expect(await reasonOf(verifier.verify(await gh.mint({}, { kid: randomUUID() })))).toBe('unknown_kid')
    expect(await reasonOf(verifier.verify(await gh.mint()))).toBe('valid')
    expect(Date.now() - fast).toBeLessThan(600) // served from cache, no second timeout
    expect(gh.fetchCount).toBe(2)
  })
})

describe('weak keys (catalogue #6)', () => {
  it('rejects a token signed with a 1024-bit RSA key the issuer publishes', async () => {
    const { gh, verifier } = await setup()
    const weak = await generateKeyMaterial('rsa1024')
    gh.publish([weak.publicJwk])
    const nowSec = Math.floor(Date.now() / 1000)
    const header = JSON.stringify({ alg: 'RS256', kid: weak.kid, typ: 'JWT' })
    const token = signCompact(header, JSON.stringify(githubClaims(gh.issuer, AUDIENCE, nowSec)), 'RS256', weak.privateKey)
    expect(await reasonOf(verifier.verify(token))).toBe('bad_signature')
  })
})
