import { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
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

/** The two methods every socket write of node:net goes through. */
interface SocketWrites {
  _write(this: Socket, chunk: unknown, ...rest: unknown[]): unknown
  _writev(this: Socket, chunks: Array<{ chunk: unknown }>, ...rest: unknown[]): unknown
}

/** Every write the gateway makes to its clients' sockets (bytes as text), while `during` runs. */
async function gatewayWrites<T>(port: number, during: (writes: string[]) => Promise<T>): Promise<T> {
  const writes: string[] = []
  const proto = Socket.prototype as unknown as SocketWrites
  const write = proto._write
  const writev = proto._writev
  const mine = (socket: Socket) => socket.localPort === port
  proto._write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (mine(this)) writes.push(String(chunk))
    return write.call(this, chunk, ...rest)
  }
  proto._writev = function (this: Socket, chunks: Array<{ chunk: unknown }>, ...rest: unknown[]) {
    if (mine(this)) writes.push(chunks.map((c) => String(c.chunk)).join(''))
    return writev.call(this, chunks, ...rest)
  }
  try {
    return await during(writes)
  } finally {
    proto._write = write
    proto._writev = writev
  }
}

describe('strict durability', () => {
  it("holds a stream's last event until its completion is committed, and sends what came with it in the same write", async () => {
    const writer = stack.gateway.audit.writer!
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const completing = vi.fn()
    const complete = writer.complete.bind(writer)
    writer.complete = async (id, completion) => {
      completing()
      await gate
      return complete(id, completion)
    }
    try {
      await gatewayWrites(Number(new URL(stack.url).port), async (writes) => {
        const pending = fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: await headers() }).then((res) => res.text())
        await vi.waitFor(() => expect(completing).toHaveBeenCalledTimes(1))
        // The whole stream came in one upstream read: nothing of it (not even the headers) left before the commit.
        for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve))
        expect(writes).toEqual([])
        release()
        const text = await pending
        expect(text).toMatch(/event: message_stop/)
        expect(writes).toHaveLength(1)
        expect(writes[0]).toMatch(/^HTTP\/1\.1 200[\s\S]*event: message_start[\s\S]*event: message_stop[\s\S]*\r\n0\r\n\r\n$/)
      })
    } finally {
      release()
      writer.complete = complete
    }
  })

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
