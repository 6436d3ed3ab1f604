import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../src/audit/record.js'
import { messageBody, startStack, type Stack } from '../e2e/harness.js'
import { API_HEADERS, expectErrorEvent, expectGatewayError, liveBytes, sseEvents, startBlackholeListener } from './helpers.js'

/**
 * Reliability: the upstream misbehaves (docs/reliability.md, "upstream"). Whatever it does, the
 * client gets a clear Anthropic-shaped error (a JSON 502/504 before the headers, an `event: error`
 * after), the audit records how the request ended, and the gateway keeps serving.
 */
let stack: Stack
let token: string

beforeAll(async () => {
  stack = await startStack({
    mock: { maxRecordedRequests: 50 },
    configure: (c) => ((c.upstream as Record<string, unknown>).timeouts = { connect: '2s', firstByte: '400ms', idle: '300ms' }),
  })
  token = await stack.mint({}, { expiresIn: 900 })
})
afterAll(async () => {
  await stack?.close()
})

const tokens = new Map<string, string>()
/** POST /v1/messages with a token of the stack at `url` (each stack has its own issuer key). */
const post = (url: string, body: Buffer | string, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/messages`, { method: 'POST', body, headers: { ...API_HEADERS, 'x-api-key': tokens.get(url) ?? token, ...headers } })
async function stackWithToken(options: Parameters<typeof startStack>[0]): Promise<Stack> {
  const s = await startStack(options)
  tokens.set(s.url, await s.mint({}, { expiresIn: 900 }))
  return s
}

/** The committed record of a request once it is no longer open (the completion may trail the last byte of an error). */
async function settledRecord(s: Stack, id: string | null, timeout = 2_000): Promise<AuditRecord> {
  expect(id).toMatch(/^[0-9A-Z]{26}$/)
  let record: AuditRecord | undefined
  await expect
    .poll(async () => (record = await s.gateway.audit.storage.audit.get(id ?? ''))?.outcome, { timeout, interval: 50, message: `record ${id} is closed` })
    .not.toBe('open')
  return record as AuditRecord
}

async function expectHealthy(s: Stack): Promise<void> {
  expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
  const res = await post(s.url, messageBody())
  expect(res.status).toBe(200)
  await res.arrayBuffer()
}

describe('upstream reset mid-stream', () => {
  it('ends the stream with event: error (no message_stop) and records outcome error', async () => {
    for (const after of [0, 1, 3]) {
      const res = await post(stack.url, messageBody({ stream: true }), { 'mock-stream-reset-after': String(after) })
      expect(res.status).toBe(200)
      const text = await res.text()
      const events = sseEvents(text)
      expect(events[0]?.event).toBe('message_start')
      expect(events.map((e) => e.event)).not.toContain('message_stop')
      expect(events.filter((e) => e.event === 'content_block_delta')).toHaveLength(after)
      expectErrorEvent(text, 'upstream stream failed')
      const record = await settledRecord(stack, res.headers.get('skillgate-request-id'))
      expect(record).toMatchObject({ outcome: 'error', error: 'GW_UPSTREAM_STREAM_FAILED', status: 200 })
      expect(record.response?.kind).toBe('sse')
    }
    await expectHealthy(stack)
  })
})

describe('upstream timeouts', () => {
  it('connect timeout: 504 JSON within the configured bound', async () => {
    const blackhole = await startBlackholeListener()
    const gw = await stackWithToken({ upstreamUrl: blackhole.url, configure: (c) => ((c.upstream as Record<string, unknown>).timeouts = { connect: '500ms' }) })
    try {
      const started = performance.now()
      const res = await post(gw.url, messageBody())
      const elapsed = performance.now() - started
      const body = await res.text()
      expectGatewayError({ status: res.status, headers: res.headers, body }, { status: 504, type: 'api_error', message: 'upstream timed out' })
      expect(elapsed).toBeGreaterThanOrEqual(450)
      expect(elapsed).toBeLessThan(3_000)
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200)
    } finally {
      await gw.close()
      blackhole.close()
    }
  })

  it('first-byte timeout: 504 JSON for a JSON and for a streaming request', async () => {
    for (const stream of [false, true]) {
      const started = performance.now()
      const res = await post(stack.url, messageBody(stream ? { stream: true } : {}), { 'mock-first-byte-delay-ms': '3000' })
      const body = await res.text()
      expect(performance.now() - started).toBeLessThan(2_000)
      expectGatewayError({ status: res.status, headers: res.headers, body }, { status: 504, type: 'api_error', message: 'upstream timed out' })
    }
    await expectHealthy(stack)
  })

  // SPEC §5: every record ends completed / interrupted / denied / error. A request whose opening was
  // committed and whose forward failed (no upstream answer) must not stay `open` while the gateway runs.
  it('records a request whose forward failed after the audit opening (first-byte timeout, 504) with outcome error and its status', async () => {
    const failures: { kind: string; id: string | null; status: number }[] = []
    for (const stream of [false, true]) {
      const res = await post(stack.url, messageBody(stream ? { stream: true } : {}), { 'mock-first-byte-delay-ms': '3000' })
      await res.text()
      failures.push({ kind: `first-byte timeout (stream: ${stream})`, id: res.headers.get('skillgate-request-id'), status: res.status })
    }
    for (const { kind, id, status } of failures) {
      expect(status, kind).toBe(504)
      const record = await settledRecord(stack, id, 1_000).catch(() => stack.gateway.audit.storage.audit.get(id ?? ''))
      expect({ kind, outcome: record?.outcome, status: record?.status }).toEqual({ kind, outcome: 'error', status })
    }
  })

  it('idle timeout mid-stream: event: error after the events already relayed, recorded as error', async () => {
    const started = performance.now()
    const res = await post(stack.url, messageBody({ stream: true }), { 'mock-delay-ms': '2000' })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(performance.now() - started).toBeLessThan(1_800)
    expect(sseEvents(text)[0]?.event).toBe('message_start')
    expectErrorEvent(text, 'upstream stream failed')
    const record = await settledRecord(stack, res.headers.get('skillgate-request-id'))
    expect(record).toMatchObject({ outcome: 'error', error: 'GW_UPSTREAM_STREAM_FAILED' })
    await expectHealthy(stack)
  })

  it('unreachable upstream: 502 JSON that names no address', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    const gw = await stackWithToken({ upstreamUrl: `http://127.0.0.1:${port}` })
    try {
      const res = await post(gw.url, messageBody())
      const body = await res.text()
      expectGatewayError({ status: res.status, headers: res.headers, body }, { status: 502, message: 'upstream unreachable' })
      expect(body).not.toContain(String(port))
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200)
    } finally {
      await gw.close()
    }
  })
})

describe('429 / 529 bursts', () => {
  it('passes every upstream 429 and 529 through with its headers, audits each, and memory stays flat', async () => {
    const rounds = 5
    const perRound = 120
    const concurrency = 24
    const samples: number[] = []
    const sent = { 429: 0, 529: 0, 200: 0 }
    const ids = new Map<string, number>()
    const since = new Date(Date.now() - 1_000)
    for (let round = 0; round < rounds; round++) {
      let next = 0
      const worker = async () => {
        while (next < perRound) {
          const i = next++
          const status = i % 10 === 9 ? 200 : i % 2 === 0 ? 429 : 529
          sent[status as 200 | 429 | 529]++
          const body = status === 200 ? messageBody() : `{"model":"mock-error-${status}","max_tokens":5,"messages":[{"role":"user","content":"burst ${round}/${i}"}]}`
          const res = await post(stack.url, body)
          const text = await res.text()
          expect(res.status).toBe(status)
          const id = res.headers.get('skillgate-request-id')
          expect(id).toMatch(/^[0-9A-Z]{26}$/)
          ids.set(id ?? '', status)
          if (status === 200) continue
          // Passed through unchanged: the upstream's body and its headers, not a gateway error.
          const parsed = JSON.parse(text) as { type: string; error: { type: string; message: string }; request_id: string }
          expect(parsed.type).toBe('error')
          expect(parsed.error.type).toBe(status === 429 ? 'rate_limit_error' : 'overloaded_error')
          expect(parsed.request_id).toBe(res.headers.get('request-id'))
          expect(res.headers.get('request-id')).toMatch(/^req_/)
          expect(res.headers.get('x-should-retry')).toBe('true')
          expect(res.headers.get('anthropic-ratelimit-requests-limit')).toBe('4000')
          if (status === 429) expect(res.headers.get('retry-after')).toBe('1')
        }
      }
      await Promise.all(Array.from({ length: concurrency }, worker))
      stack.logs.length = 0 // the harness keeps every log line; that is the test's memory, not the gateway's
      samples.push(liveBytes())
    }
    expect(sent[429] + sent[529]).toBeGreaterThan(500)
    // Every request of the burst has its record, with the upstream status and error type.
    const seen = new Map<string, AuditRecord>()
    for await (const record of stack.gateway.audit.storage.audit.iterate({ from: since })) if (ids.has(record.id)) seen.set(record.id, record)
    expect(seen.size).toBe(ids.size)
    for (const [id, status] of ids) {
      const record = seen.get(id)
      expect(record?.status, id).toBe(status)
      if (status === 200) expect(record?.outcome).toBe('completed')
      else expect(record).toMatchObject({ outcome: 'error', error: status === 429 ? 'upstream:rate_limit_error' : 'upstream:overloaded_error' })
    }
    // Memory after a full GC: later rounds do not keep what earlier rounds allocated.
    const early = Math.max(...samples.slice(0, 2))
    const late = Math.max(...samples.slice(2))
    expect(late, `live bytes per round: ${samples.map((b) => (b / 1048576).toFixed(1)).join(' MB, ')} MB`).toBeLessThan(early + 16 * 1024 * 1024)
    await expectHealthy(stack)
    expect((await stack.gateway.audit.storage.audit.verify()).ok).toBe(true)
  }, 60_000)
})
