import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageBody, startStack, type Stack } from './harness.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack.close()
})

const headers = async (extra: Record<string, string> = {}) => ({
  'x-api-key': await stack.mint(),
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
  ...extra,
})

async function recordOf(res: Response) {
  const id = res.headers.get('skillgate-request-id')!
  const record = await stack.gateway.audit.storage.audit.get(id)
  if (!record) throw new Error(`no audit record for ${id}`)
  return record
}

describe('audit trail of every request', () => {
  it('records a completed JSON call with principal, rule, reasons, usage and the response', async () => {
    const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: await headers() })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { usage: { output_tokens: number } }
    const record = await recordOf(res)
    expect(record).toMatchObject({
      principal: 'ci:1234567/42',
      issuer: 'ci',
      rule: 'ci-app',
      decision: 'allow',
      endpoint: 'messages',
      model: 'claude-sonnet-4-6',
      outcome: 'completed',
      status: 200,
      upstreamRequestId: res.headers.get('request-id'),
    })
    expect(record.reasons.map((r) => r.code)).toContain('rule-matched')
    expect(record.usage?.outputTokens).toBe(body.usage.output_tokens)
    expect(record.response).toMatchObject({ kind: 'json' })
  })

  it('records a stream with its event log and assembled message', async () => {
    const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: await headers() })
    const text = await res.text()
    const record = await recordOf(res)
    expect(record.outcome).toBe('completed')
    const response = record.response as unknown as { kind: string; events: { event: string; t: number }[]; message: { content: { text: string }[] } }
    expect(response.kind).toBe('sse')
    expect(response.events.map((e) => e.event)).toEqual([...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]))
    expect(response.message.content[0]?.text).toBe('Hello from the mock upstream.')
  })

  it('records refusals (401, 403) with their reason and no upstream call', async () => {
    const anonymous = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'content-type': 'application/json' } })
    expect(anonymous.status).toBe(401)
    expect(await recordOf(anonymous)).toMatchObject({ decision: 'deny', outcome: 'denied', status: 401, principal: null, error: 'GW_AUTHN_MISSING' })
    const denied = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: '{"model":"gpt-4","max_tokens":1,"messages":[]}', headers: await headers() })
    const record = await recordOf(denied)
    expect(record).toMatchObject({ decision: 'deny', outcome: 'denied', status: 403, rule: 'ci-app', error: 'GW_AUTHZ_MODEL_DENIED' })
    expect(record.reasons.at(-1)).toEqual({ code: 'model-not-granted', detail: 'gpt-4' })
  })

  it('records an upstream failure mid-stream as an error and a client that left as interrupted', async () => {
    const failed = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: await headers({ 'mock-stream-reset-after': '2' }) })
    await failed.text()
    await expect.poll(async () => (await recordOf(failed)).outcome).toBe('error')
    const controller = new AbortController()
    const left = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: await headers({ 'mock-delay-ms': '100' }), signal: controller.signal })
    const reader = left.body!.getReader()
    await reader.read()
    controller.abort()
    await expect.poll(async () => (await recordOf(left)).outcome, { timeout: 5_000 }).toBe('interrupted')
  })

  it('keeps a hash chain that verifies', async () => {
    const report = await stack.gateway.audit.storage.audit.verify()
    expect(report.ok).toBe(true)
    expect(report.records).toBeGreaterThan(5)
  })
})

describe('strict durability', () => {
  it('refuses with 503 and forwards nothing when the store cannot commit', async () => {
    const gw = await startStack()
    try {
      await gw.gateway.audit.storage.close()
      gw.mock.reset()
      const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': await gw.mint(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
      expect(res.status).toBe(503)
      expect(await res.json()).toMatchObject({ error: { type: 'api_error', message: 'audit store unavailable; request not forwarded' } })
      expect(gw.mock.requests).toHaveLength(0)
    } finally {
      await gw.close().catch(() => undefined)
    }
  })
})
