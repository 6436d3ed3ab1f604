/**
 * Issue #16 item 6 and issue #12 item 6 against a running gateway: anonymous traffic cannot grow
 * the audit without bound (refusals past a per-address burst are aggregated, every one counted in a
 * metric), one address cannot keep failing authentication for free, and `X-Forwarded-For` names
 * the client only when the connection comes from a trusted proxy.
 */
import { rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { Agent, fetch } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../src/audit/record.js'
import { openStorage } from '../../src/storage/open-storage.js'
import { startStack, type Stack } from './harness.js'

const agent = new Agent({ connections: 32 })
afterAll(async () => {
  await agent.close()
})

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { dispatcher: agent })).text()
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0)
}

const post = (url: string, headers: Record<string, string>) =>
  fetch(`${url}/v1/messages`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers }, body: '{"model":"claude-sonnet-4-6","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}' })

/** Closes the gateway (which writes the current minute's aggregates), then reads every record from its store. */
async function closeAndReadRecords(stack: Stack): Promise<AuditRecord[]> {
  const url = stack.gateway.config.storage.url
  await stack.gateway.close(1_000)
  await stack.mock.close()
  const storage = await openStorage(url)
  const records: AuditRecord[] = []
  for await (const record of storage.audit.iterate()) records.push(record)
  await storage.close()
  rmSync(dirname(url.replace(/^sqlite:/, '')), { recursive: true, force: true })
  return records
}

describe('10,000 unauthenticated requests', () => {
  it('write fewer than 200 audit records, and the metric counts all 10,000', async () => {
    const stack = await startStack({
      configure: (c) => void (c.listen = { host: '127.0.0.1', port: 0, drainTimeout: '5s', unauthenticatedPerMinute: 1_000_000, trustedProxies: ['127.0.0.1'] }),
    })
    const token = await stack.mint()
    const total = 10_000
    let next = 0
    const statuses = new Map<number, number>()
    // Half send no credential, half a tampered token: two reasons, one client address (via the trusted proxy).
    const worker = async () => {
      for (let i = next++; i < total; i = next++) {
        const credential: Record<string, string> = i % 2 === 0 ? {} : { 'x-api-key': `${token.slice(0, -4)}AAAA` }
        const res = await post(stack.url, { ...credential, 'x-forwarded-for': '198.51.100.7' })
        await res.arrayBuffer()
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: 32 }, worker))
    expect(statuses.get(401)).toBe(total)
    expect(await metric(stack.url, 'skillgate_unauthenticated_refusals_total')).toBe(total)
    // An authenticated request still gets its own record, refused or not.
    const ok = await post(stack.url, { 'x-api-key': token })
    expect(ok.status, await ok.clone().text()).toBe(200)
    const okId = ok.headers.get('skillgate-request-id')
    const denied: Array<string | null> = []
    for (let i = 0; i < 15; i++) {
      const res = await fetch(`${stack.url}/v1/messages`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': token, 'x-forwarded-for': '198.51.100.7' },
        body: '{"model":"gpt-4","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}',
      })
      await res.arrayBuffer()
      expect(res.status).toBe(403)
      denied.push(res.headers.get('skillgate-request-id'))
    }

    const records = await closeAndReadRecords(stack)
    expect(records.length).toBeLessThan(200)
    expect(records.filter((r) => r.id === okId)).toHaveLength(1)
    const ids = new Set(records.map((r) => r.id))
    expect(denied.filter((id) => id !== null && ids.has(id))).toHaveLength(15)
    const anonymous = records.filter((r) => r.principal === null)
    const counted = anonymous.reduce((sum, r) => sum + (r.aggregate?.count ?? 1), 0)
    expect(counted, 'every refusal is in a record of its own or in an aggregate count').toBe(total)
    const aggregates = anonymous.filter((r) => r.aggregate)
    expect(aggregates.length).toBeGreaterThanOrEqual(2)
    for (const record of aggregates) {
      expect(record.aggregate?.clientAddress).toBe('198.51.100.7')
      expect(['GW_AUTHN_MISSING', 'GW_AUTHN_INVALID']).toContain(record.error)
      expect(record.outcome).toBe('denied')
    }
  }, 120_000)
})

describe('unauthenticated requests per client address', () => {
  let stack: Stack | undefined
  afterAll(async () => {
    await stack?.close()
  })

  it('refuses an address with 429 once it reached listen.unauthenticatedPerMinute', async () => {
    stack = await startStack({ configure: (c) => void (c.listen = { host: '127.0.0.1', port: 0, drainTimeout: '5s', unauthenticatedPerMinute: 3 }) })
    const token = await stack.mint()
    for (let i = 0; i < 3; i++) expect((await post(stack.url, {})).status).toBe(401)
    const capped = await post(stack.url, {})
    expect(capped.status).toBe(429)
    expect(Number(capped.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(Number(capped.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    // Without trusted proxies X-Forwarded-For is the client's own claim: it does not buy a new budget.
    expect((await post(stack.url, { 'x-forwarded-for': '203.0.113.50' })).status).toBe(429)
    // Documented: the whole address waits, even a valid token (the cap is checked before any token).
    expect((await post(stack.url, { 'x-api-key': token })).status).toBe(429)
    expect(await metric(stack.url, 'skillgate_unauthenticated_refusals_total')).toBe(6)
  })
})

describe('admin API refusals per client address', () => {
  let stack: Stack | undefined
  afterAll(async () => {
    await stack?.close()
  })

  it('count against the same budget: wrong admin tokens get 429 past it, before any token is read', async () => {
    const adminToken = 'sg-admin-token-0123456789abcdef-cap'
    stack = await startStack({
      configure: (c) => {
        c.listen = { host: '127.0.0.1', port: 0, drainTimeout: '5s', unauthenticatedPerMinute: 3 }
        c.admin = { tokens: [{ name: 'ops', secret: { value: adminToken }, roles: ['admin'] }] }
      },
    })
    const admin = (token: string) => fetch(`${stack!.url}/admin/api/revocations`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } })
    expect((await admin(adminToken)).status).toBe(200)
    for (let i = 0; i < 2; i++) expect((await admin(`${adminToken.slice(0, -3)}${i}xx`)).status).toBe(401)
    // One more refusal on /v1 uses up the address's budget for both surfaces.
    expect((await post(stack.url, {})).status).toBe(401)
    const capped = await admin('guess')
    expect(capped.status).toBe(429)
    expect(Number(capped.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await capped.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error')
    // Documented: the whole address waits, the right token too; Slack's endpoint and sign-in share it.
    expect((await admin(adminToken)).status).toBe(429)
    expect((await fetch(`${stack.url}/admin/slack/interactions`, { method: 'POST', dispatcher: agent, body: 'payload=x' })).status).toBe(429)
    const text = await (await fetch(`${stack.url}/metrics`, { dispatcher: agent })).text()
    expect(text).toMatch(/skillgate_unauthenticated_refusals_total\{code="admin:401"\} 2/)
    expect(stack.logs.join('')).not.toContain(adminToken)
  })
})

describe('listen.trustedProxies', () => {
  let stack: Stack | undefined
  afterAll(async () => {
    await stack?.close()
  })

  it('reads the client from X-Forwarded-For only behind a trusted proxy, from the right', async () => {
    stack = await startStack({
      configure: (c) => void (c.listen = { host: '127.0.0.1', port: 0, drainTimeout: '5s', unauthenticatedPerMinute: 2, trustedProxies: ['127.0.0.0/8', '10.0.0.0/8'] }),
    })
    const from = (xff: string) => post(stack!.url, { 'x-forwarded-for': xff }).then((res) => res.status)
    expect([await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.1')]).toEqual([401, 401, 429])
    // Another client behind the same proxy has its own budget.
    expect(await from('203.0.113.2')).toBe(401)
    // Entries left of the first untrusted hop are the client's own words: 203.0.113.1 stays capped.
    expect(await from('192.0.2.99, 203.0.113.1')).toBe(429)
    // A trusted inner proxy is skipped: the client is the address before it.
    expect(await from('203.0.113.1, 10.1.2.3')).toBe(429)
    expect(await from('203.0.113.3, 10.1.2.3')).toBe(401)
  })
})

describe('POST /v1/oauth/token with assertions that never verify', () => {
  const exchange = (url: string, assertion: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/oauth/token`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
    })

  it('2,000 of them write fewer than 50 records; each is counted, and a verified workload still gets its own', async () => {
    const stack = await startStack({
      configure: (c) => void (c.listen = { host: '127.0.0.1', port: 0, drainTimeout: '5s', unauthenticatedPerMinute: 1_000_000, trustedProxies: ['127.0.0.1'] }),
    })
    const token = await stack.mint()
    const total = 2_000
    let next = 0
    const statuses = new Map<number, number>()
    const worker = async () => {
      for (let i = next++; i < total; i = next++) {
        // Half garbage, half a real token with a broken signature: two reasons, one client address.
        const res = await exchange(stack.url, i % 2 === 0 ? 'not-a-jwt' : `${token.slice(0, -4)}AAAA`, { 'x-forwarded-for': '198.51.100.9' })
        await res.arrayBuffer()
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    expect([...statuses.keys()].every((status) => status === 400 || status === 401)).toBe(true)
    expect(await metric(stack.url, 'skillgate_unauthenticated_refusals_total')).toBe(total)
    // Verified assertions keep their own records, granted or refused (no rule matches this owner).
    const granted = await exchange(stack.url, token, { 'x-forwarded-for': '198.51.100.9' })
    expect(granted.status).toBe(200)
    const stranger = await exchange(stack.url, await stack.mint({ repository_owner_id: '999' }), { 'x-forwarded-for': '198.51.100.9' })
    expect(stranger.status).toBe(400)
    expect(await stranger.json()).toMatchObject({ error: 'invalid_grant' })

    const records = await closeAndReadRecords(stack)
    expect(records.length).toBeLessThan(50)
    const isKnown = (r: AuditRecord) => !r.aggregate && (r.decision === 'allow' || r.reasons.some((reason) => reason.detail?.startsWith('no_rule')))
    const known = records.filter((r) => r.endpoint === 'oauth_token' && isKnown(r))
    expect(known.map((r) => r.decision).sort(), 'each verified workload has its own record').toEqual(['allow', 'deny'])
    const anonymous = records.filter((r) => r.endpoint === 'oauth_token' && !isKnown(r))
    const counted = anonymous.reduce((sum, r) => sum + (r.aggregate?.count ?? 1), 0)
    expect(counted, 'every refusal is in a record of its own or in an aggregate count').toBe(total)
    for (const record of anonymous.filter((r) => r.aggregate)) {
      expect(record.aggregate?.clientAddress).toBe('198.51.100.9')
      expect(record.request.path).toBe('/v1/oauth/token')
    }
    expect(anonymous.filter((r) => r.aggregate).length).toBeGreaterThanOrEqual(2)

  }, 120_000)

  it('share the address budget with /v1: past listen.unauthenticatedPerMinute both answer 429', async () => {
    const stack = await startStack({ configure: (c) => void (c.listen = { host: '127.0.0.1', port: 0, drainTimeout: '5s', unauthenticatedPerMinute: 3 }) })
    try {
      expect((await exchange(stack.url, 'not-a-jwt')).status).toBe(400)
      expect((await exchange(stack.url, 'not-a-jwt')).status).toBe(400)
      expect((await post(stack.url, {})).status).toBe(401)
      const capped = await exchange(stack.url, 'not-a-jwt')
      expect(capped.status).toBe(429)
      expect(Number(capped.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(await capped.json()).toMatchObject({ error: 'temporarily_unavailable' })
      expect((await post(stack.url, {})).status).toBe(429)
      expect(await metric(stack.url, 'skillgate_unauthenticated_refusals_total')).toBe(5)
    } finally {
      await stack.close()
    }
  })
})
