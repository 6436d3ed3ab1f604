import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startMockUpstream, type MockUpstream } from '../mock-upstream/index.js'
import { createUpstreamFederation, UpstreamFederationError, type FederationEvent, type UpstreamFederation } from './federation.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
/** A well-formed (unsigned) JWT; the mock upstream checks shape only. */
const workloadJwt = (n: number) => `${b64({ alg: 'RS256', kid: 'k' })}.${b64({ sub: 'system:serviceaccount:skillgate:gateway', n })}.c2ln`

let mock: MockUpstream | undefined
let federation: UpstreamFederation | undefined
let server: Server | undefined
afterEach(async () => {
  federation?.close()
  await mock?.close()
  if (server !== undefined) await new Promise<void>((resolve) => server?.close(() => resolve()))
  mock = undefined
  federation = undefined
  server = undefined
})

async function withMock(ttlSeconds: number): Promise<MockUpstream> {
  mock = await startMockUpstream({ federation: { accessTokenTtlSeconds: ttlSeconds } })
  return mock
}

/** A token endpoint answering whatever the test wants (shapes the mock never produces). */
async function fakeTokenEndpoint(status: number, body: string): Promise<string> {
  server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body))
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('createUpstreamFederation', () => {
  it('exchanges the workload JWT with the WIF wire form and yields a working OAuth credential', async () => {
    const upstream = await withMock(3600)
    federation = createUpstreamFederation({ origin: upstream.url, identityToken: () => workloadJwt(1), ruleId: 'fdrl_gateway', organizationId: 'org-1', workspaceId: 'wrkspc_1' })
    await federation.start()
    const credential = federation.current()
    expect(credential).toMatchObject({ header: 'authorization', oauth: true })
    expect(credential?.value).toMatch(/^sk-ant-oat01-mock-/)
    expect(upstream.exchanges).toEqual([{ assertion: workloadJwt(1), federation_rule_id: 'fdrl_gateway', organization_id: 'org-1' }])
    const sent = upstream.requests.find((r) => r.path === '/v1/oauth/token')
    expect(sent?.headers['anthropic-beta']).toBe('oauth-2025-04-20,oidc-federation-2026-04-01')
    expect(sent?.headers['content-type']).toBe('application/json')
    expect(sent?.headers.authorization).toBeUndefined()
    expect(sent?.json).toMatchObject({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', workspace_id: 'wrkspc_1' })
    expect(federation.health()).toMatchObject({ state: 'ready', consecutiveFailures: 0 })

    const call = await request(`${upstream.url}/v1/models`, {
      headers: { authorization: `Bearer ${credential?.value ?? ''}`, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'oauth-2025-04-20' },
    })
    expect(call.statusCode).toBe(200)
    await call.body.dump()
  })

  it('refreshes in the background before expiry and re-reads the identity token each time', async () => {
    const upstream = await withMock(2)
    let n = 0
    federation = createUpstreamFederation({ origin: upstream.url, identityToken: () => workloadJwt(++n), ruleId: 'r', organizationId: 'o' })
    await federation.start()
    const first = federation.current()?.value
    // 2 s tokens: refresh at half-life (the 120 s threshold would be immediate).
    await vi.waitFor(() => expect(upstream.exchanges.length).toBeGreaterThanOrEqual(2), { timeout: 3_000, interval: 50 })
    expect(upstream.exchanges[1]?.assertion).toBe(workloadJwt(2))
    await vi.waitFor(() => expect(federation?.current()?.value).not.toBe(first), { timeout: 1_000, interval: 20 })
  })

  it('start() rejects with a clear error naming status and OAuth error, never the token', async () => {
    const upstream = await withMock(3600)
    federation = createUpstreamFederation({ origin: upstream.url, identityToken: () => 'not-a-jwt-secret-value', ruleId: 'r', organizationId: 'o' })
    const err = await federation.start().then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(UpstreamFederationError)
    expect((err as UpstreamFederationError).message).toMatch(/status 400 \(invalid_grant\)/)
    expect((err as UpstreamFederationError).status).toBe(400)
    expect(String(err)).not.toContain('not-a-jwt-secret-value')
    expect(federation.current()).toBeUndefined()
  })

  it('start() rejects when the token endpoint is unreachable', async () => {
    federation = createUpstreamFederation({ origin: 'http://127.0.0.1:1', identityToken: () => workloadJwt(1), ruleId: 'r', organizationId: 'o', timeoutMs: 2_000 })
    await expect(federation.start()).rejects.toThrow(/unreachable/)
  })

  it('keeps the old token while refreshes fail, fails closed after expiry, recovers with backoff', async () => {
    const upstream = await withMock(2)
    let good = true
    const events: FederationEvent[] = []
    federation = createUpstreamFederation({
      origin: upstream.url,
      identityToken: () => (good ? workloadJwt(1) : 'broken'),
      ruleId: 'r',
      organizationId: 'o',
      retry: { initialMs: 50, maxMs: 200 },
      onEvent: (event) => events.push(event),
    })
    await federation.start()
    const first = federation.current()?.value
    good = false
    await vi.waitFor(() => expect(federation?.health().consecutiveFailures).toBeGreaterThanOrEqual(2), { timeout: 3_000, interval: 20 })
    expect(federation.current()?.value).toBe(first)
    expect(federation.health().state).toBe('refreshing')
    expect(events.some((e) => e.type === 'federation.failed' && e.tokenValid && e.status === 400)).toBe(true)
    await vi.waitFor(() => expect(federation?.current()).toBeUndefined(), { timeout: 3_000, interval: 20 })
    expect(federation.health().state).toBe('expired')
    good = true
    await vi.waitFor(() => expect(federation?.current()).toBeDefined(), { timeout: 2_000, interval: 20 })
    expect(federation.health()).toMatchObject({ state: 'ready', consecutiveFailures: 0 })
    expect(JSON.stringify(events)).not.toContain('sk-ant-oat01')
  })

  it('invalidate() drops a token the upstream refused and re-exchanges', async () => {
    const upstream = await withMock(3600)
    federation = createUpstreamFederation({ origin: upstream.url, identityToken: () => workloadJwt(1), ruleId: 'r', organizationId: 'o' })
    await federation.start()
    const first = federation.current()?.value ?? ''
    federation.invalidate('some-other-token')
    expect(federation.current()?.value).toBe(first)
    federation.invalidate(first)
    expect(federation.current()).toBeUndefined()
    await vi.waitFor(() => expect(federation?.current()?.value).toBeDefined(), { timeout: 2_000, interval: 20 })
    expect(federation.current()?.value).not.toBe(first)
    expect(upstream.exchanges).toHaveLength(2)
  })

  it.each([
    ['a non-Bearer token_type', { access_token: 'x', token_type: 'mac', expires_in: 60 }, /token_type/],
    ['a missing access_token', { token_type: 'Bearer', expires_in: 60 }, /access_token/],
    ['a non-numeric expires_in', { access_token: 'x', expires_in: 'soon' }, /expires_in/],
    ['an infinite expires_in', '{"access_token":"x","expires_in":1e400}', /expires_in/],
  ])('refuses a token response with %s', async (_name, body, message) => {
    const origin = await fakeTokenEndpoint(200, typeof body === 'string' ? body : JSON.stringify(body))
    federation = createUpstreamFederation({ origin, identityToken: () => workloadJwt(1), ruleId: 'r', organizationId: 'o' })
    await expect(federation.start()).rejects.toThrow(message)
  })

  it('blanks JWTs in an upstream error description', async () => {
    const origin = await fakeTokenEndpoint(401, JSON.stringify({ error: 'invalid_client', error_description: `bad assertion ${workloadJwt(7)}` }))
    federation = createUpstreamFederation({ origin, identityToken: () => workloadJwt(7), ruleId: 'r', organizationId: 'o' })
    const err = await federation.start().then(() => undefined, (e: unknown) => e)
    expect(String(err)).toMatch(/status 401 \(invalid_client\): bad assertion \[jwt\]/)
    expect(String(err)).not.toContain(workloadJwt(7))
  })

  it('requires https except on loopback, and a 16 KiB identity token at most', async () => {
    expect(() => createUpstreamFederation({ origin: 'http://api.example.com', identityToken: () => 'x', ruleId: 'r', organizationId: 'o' })).toThrow(/https/)
    expect(() => createUpstreamFederation({ origin: 'https://api.example.com', identityToken: () => 'x', ruleId: 'r', organizationId: 'o' })).not.toThrow()
    federation = createUpstreamFederation({ origin: 'http://127.0.0.1:1', identityToken: () => 'a'.repeat(17 * 1024), ruleId: 'r', organizationId: 'o' })
    await expect(federation.start()).rejects.toThrow(/16 KiB/)
  })

  it('close() stops refreshing and drops the credential', async () => {
    const upstream = await withMock(2)
    federation = createUpstreamFederation({ origin: upstream.url, identityToken: () => workloadJwt(1), ruleId: 'r', organizationId: 'o' })
    await federation.start()
    federation.close()
    expect(federation.current()).toBeUndefined()
    expect(federation.health().state).toBe('closed')
    await new Promise((resolve) => setTimeout(resolve, 1_300))
    expect(upstream.exchanges).toHaveLength(1)
  })
})
