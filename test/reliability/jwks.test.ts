import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageBody, startStack, type Stack } from '../e2e/harness.js'
import { startFakeIssuer, type FakeIssuer } from '../fixtures/issuers/fake-issuer.js'
import { API_HEADERS, expectGatewayError, fuzzSeed, sleep } from './helpers.js'

/**
 * Reliability: an issuer's JWKS endpoint is down or tarpitted (docs/reliability.md, "JWKS").
 * Tokens whose keys are cached keep verifying, quickly and without a fetch per request; a tarpit
 * costs at most one `keySets.fetchTimeout`; other issuers never wait; an issuer whose keys never
 * loaded fails closed with a fast 401 and comes back by itself once the endpoint answers again.
 */
const AUDIENCE = 'https://skillgate.example'
const KEY_SETS = { maxAge: '1s', cooldown: '1500ms', fetchTimeout: '1s' }
const FETCH_TIMEOUT_MS = 1_000
const COOLDOWN_MS = 1_500

function withIssuer(gh: FakeIssuer, id = 'gh') {
  return (config: Record<string, unknown>) => {
    ;(config.issuers as unknown[]).push({ id, issuer: gh.issuer, jwks: { uri: gh.jwksUri }, insecureAllowHttp: true, audience: AUDIENCE, algorithms: ['RS256', 'ES256'], direct: true })
    ;(config.rules as unknown[]).push({ id: `${id}-jobs`, issuer: id, match: { subject: 'repo:octo-org@*' }, principal: 'gh:{repository_id}', allow: { endpoints: ['messages'], models: ['claude-*'] } })
    config.keySets = KEY_SETS
  }
}

let gh: FakeIssuer
let stack: Stack

beforeAll(async () => {
  gh = await startFakeIssuer({ audience: AUDIENCE })
  stack = await startStack({ configure: withIssuer(gh) })
})
afterAll(async () => {
  await stack?.close()
  await gh?.close()
})

/** One request with a fresh token (no verification cache hit); status, body and milliseconds. */
async function timed(s: Stack, token: string): Promise<{ status: number; ms: number; body: string; headers: Headers }> {
  const started = performance.now()
  const res = await fetch(`${s.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { ...API_HEADERS, 'x-api-key': token } })
  const body = await res.text()
  return { status: res.status, ms: performance.now() - started, body, headers: res.headers }
}
const ghToken = (issuer: FakeIssuer = gh, kid?: string) => issuer.mint({}, kid === undefined ? {} : { kid })
const issuerState = async (s: Stack, id = 'gh') => {
  const body = (await (await fetch(`${s.url}/readyz`)).json()) as { issuers?: { id: string; state: string; detail?: string }[] }
  return body.issuers?.find((i) => i.id === id)
}

/** Waits for the endpoint to serve again and the issuer to report ready (requests trigger the refetch). */
async function recover(s: Stack, issuer: FakeIssuer, id = 'gh') {
  issuer.setMode('up')
  await expect.poll(async () => (await timed(s, await ghToken(issuer))).status, { timeout: 8_000, interval: 300 }).toBe(200)
  await expect.poll(async () => {
    await timed(s, await ghToken(issuer))
    return (await issuerState(s, id))?.state
  }, { timeout: 8_000, interval: 300 }).toBe('ready')
}

describe('JWKS endpoint down', () => {
  it('cached keys keep verifying, fast and without a fetch per request; readiness stays ready (degraded)', async () => {
    expect((await timed(stack, await ghToken())).status).toBe(200)
    gh.setMode('down')
    await sleep(1_100) // the cache is older than keySets.maxAge: a refetch is due, and fails
    const fetchesBefore = gh.fetchCount
    for (let i = 0; i < 10; i++) {
      const res = await timed(stack, await ghToken())
      expect(res.status, res.body).toBe(200)
      expect(res.ms, 'verified against cached keys').toBeLessThan(500)
    }
    expect(gh.fetchCount - fetchesBefore, 'one refetch, then backoff: no fetch per request').toBeLessThanOrEqual(1)
    expect(await issuerState(stack)).toMatchObject({ state: 'degraded', detail: 'JWKS answered HTTP 503' })
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200)
    // An unknown kid is refused quickly (no fetch storm towards a dead endpoint).
    const unknown = await timed(stack, await ghToken(gh, randomUUID()))
    expectGatewayError(unknown, { status: 401, type: 'authentication_error' })
    expect(unknown.ms).toBeLessThan(500)
    await recover(stack, gh)
  }, 30_000)
})

describe('JWKS endpoint slow (tarpit)', () => {
  it('a refetch costs at most fetchTimeout, once; other issuers and later requests are not slowed', async () => {
    expect((await timed(stack, await ghToken())).status).toBe(200)
    gh.setMode('slow')
    await sleep(1_100)
    const ciToken = await stack.mint()
    const [ghResults, ciResults] = await Promise.all([
      Promise.all(Array.from({ length: 3 }, async () => timed(stack, await ghToken()))),
      (async () => {
        await sleep(50) // while the tarpitted fetch is in progress
        return Promise.all(Array.from({ length: 5 }, async () => timed(stack, await stack.mint())))
      })(),
    ])
    for (const res of ciResults) {
      expect(res.status).toBe(200)
      expect(res.ms, 'another issuer does not wait for the tarpit').toBeLessThan(FETCH_TIMEOUT_MS / 2)
    }
    for (const res of ghResults) {
      expect(res.status, res.body).toBe(200) // stale-if-error: the cached keys serve
      expect(res.ms, 'at most one fetch timeout').toBeLessThan(FETCH_TIMEOUT_MS + 800)
    }
    expect(await issuerState(stack)).toMatchObject({ state: 'degraded', detail: 'JWKS timed out' })
    // Later requests of the same issuer are served from cache during the backoff.
    for (let i = 0; i < 5; i++) {
      const res = await timed(stack, await ghToken())
      expect(res.status).toBe(200)
      expect(res.ms).toBeLessThan(500)
    }
    expect((await timed(stack, ciToken)).status).toBe(200)
    await recover(stack, gh)
  }, 30_000)
})

describe('JWKS endpoint unavailable from the start', () => {
  for (const mode of ['down', 'slow'] as const) {
    it(`${mode}: the gateway starts, the issuer fails closed with a fast 401, others are served, and it recovers by itself`, async () => {
      const cold = await startFakeIssuer({ audience: AUDIENCE })
      cold.setMode(mode)
      const started = performance.now()
      const s = await startStack({ configure: withIssuer(cold, 'cold') })
      try {
        expect(performance.now() - started, 'start-up waits at most one fetch timeout').toBeLessThan(FETCH_TIMEOUT_MS + 3_000)
        expect((await fetch(`${s.url}/readyz`)).status).toBe(503)
        expect(await issuerState(s, 'cold')).toMatchObject({ state: 'unavailable' })
        const refused = await timed(s, await ghToken(cold))
        expectGatewayError(refused, { status: 401, type: 'authentication_error', message: 'the signing keys of the token issuer are unavailable' })
        expect(refused.ms, 'fails fast during the backoff').toBeLessThan(500)
        expect((await timed(s, await s.mint())).status, 'another issuer is served').toBe(200)
        await recover(s, cold, 'cold')
        expect((await fetch(`${s.url}/readyz`)).status).toBe(200)
      } finally {
        await s.close()
        await cold.close()
      }
    }, 30_000)
  }
})

describe('cached keys under random outages (fast-check)', () => {
  it('known keys always verify quickly and unknown kids are always refused, whatever the endpoint does', async () => {
    // Keys were loaded; from here on the endpoint flips between up and down at random.
    expect((await timed(stack, await ghToken())).status).toBe(200)
    const step = fc.record({ mode: fc.constantFrom('up' as const, 'down' as const), kid: fc.constantFrom('known' as const, 'unknown' as const), pauseMs: fc.integer({ min: 0, max: 300 }) })
    const started = Date.now()
    const fetchesBefore = gh.fetchCount
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 5 }), async (steps) => {
        for (const { mode, kid, pauseMs } of steps) {
          gh.setMode(mode)
          await sleep(pauseMs)
          const res = await timed(stack, await ghToken(gh, kid === 'known' ? undefined : `gone-${randomUUID()}`))
          if (kid === 'known') expect(res.status, res.body).toBe(200)
          else expectGatewayError(res, { status: 401, type: 'authentication_error' })
          expect(res.ms).toBeLessThan(500)
        }
      }),
      { numRuns: 8, ...fuzzSeed },
    )
    gh.setMode('up')
    // Refetches are bounded by the cooldown, not by the number of requests or unknown kids.
    const windows = Math.ceil((Date.now() - started) / COOLDOWN_MS)
    expect(gh.fetchCount - fetchesBefore).toBeLessThanOrEqual(2 * windows + 2)
  }, 60_000)
})
