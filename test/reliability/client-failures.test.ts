import { request as httpRequest, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../src/audit/record.js'
import { defaultRules, messageBody, startStack, type Stack } from '../e2e/harness.js'
import { API_HEADERS, expectGatewayError, liveBytes, rawRequest, sleep, sseEvents, startRawUpstream, type RawUpstream } from './helpers.js'
import { drained } from '../../src/http/drained.js'

/**
 * Reliability: the client misbehaves (docs/reliability.md, "client"). It goes away mid-stream, reads
 * slowly, sends headers or bodies that are too large or not JSON. The gateway answers with
 * Anthropic's error JSON where it still can, aborts what it started upstream, records how the
 * request ended, bounds its memory, and keeps serving everybody else.
 */

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
const MESSAGE_START = frame('message_start', { type: 'message_start', message: { id: 'msg_raw', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [], stop_reason: null, usage: { input_tokens: 1, output_tokens: 1 } } })
const STOP = frame('content_block_stop', { type: 'content_block_stop', index: 0 }) + frame('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } }) + frame('message_stop', { type: 'message_stop' })

interface Upstream {
  raw: RawUpstream
  /** Resolves when the upstream side of the request with header `x-key: key` closed. */
  closed(key: string): Promise<{ finished: boolean }>
  /** Bytes the upstream managed to hand to its socket (firehose). */
  written: number
}

/**
 * The upstream stands in for Claude: `/v1/messages` with header `x-mode`:
 * - `pings`: an endless stream, one ping every 40 ms;
 * - `hang`: no answer at all until the client goes away;
 * - `firehose`: `x-total` bytes of large ping events written as fast as the socket accepts them.
 */
async function startUpstream(): Promise<Upstream> {
  type Slot = { resolve: (v: { finished: boolean }) => void; promise: Promise<{ finished: boolean }> }
  const closes = new Map<string, Slot>()
  const slot = (key: string): Slot => {
    let found = closes.get(key)
    if (!found) {
      let resolve!: (v: { finished: boolean }) => void
      const promise = new Promise<{ finished: boolean }>((r) => (resolve = r))
      found = { resolve, promise }
      closes.set(key, found)
    }
    return found
  }
  const upstream: Upstream = {
    raw: undefined as unknown as RawUpstream,
    closed: (key) => slot(key).promise,
    written: 0,
  }
  upstream.raw = await startRawUpstream((req: IncomingMessage, res) => {
    const key = String(req.headers['x-key'] ?? '')
    res.on('close', () => slot(key).resolve({ finished: res.writableFinished }))
    const mode = String(req.headers['x-mode'] ?? 'pings')
    if (mode === 'hang') return
    res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': `req_raw_${key}` })
    if (mode === 'pings') {
      res.write(MESSAGE_START)
      const timer = setInterval(() => res.write(frame('ping', { type: 'ping' })), 40)
      res.on('close', () => clearInterval(timer))
      return
    }
    // firehose
    const total = Number(req.headers['x-total'] ?? 0)
    const ping = frame('ping', { type: 'ping', pad: 'x'.repeat(16 * 1024) })
    upstream.written = 0
    void (async () => {
      res.write(MESSAGE_START)
      while (upstream.written < total && !res.destroyed) {
        upstream.written += ping.length
        if (!res.write(ping)) await drained(res)
      }
      if (!res.destroyed) res.end(STOP)
    })()
  })
  return upstream
}

let upstream: Upstream
let stack: Stack
let token: string
/** Another principal (its own concurrent-stream slots), for "everybody else". */
let otherToken: string
let keys = 0
const nextKey = () => `k${keys++}`

beforeAll(async () => {
  upstream = await startUpstream()
  stack = await startStack({
    upstreamUrl: upstream.raw.url,
    configure: (c) => {
      c.listen = { ...(c.listen as object), maxBody: '64KiB' }
      c.rules = [{ ...structuredClone(defaultRules[0]), limits: { concurrentStreams: 2 } }]
    },
  })
  token = await stack.mint({}, { expiresIn: 900 })
  otherToken = await stack.mint({ repository_id: '43' }, { expiresIn: 900 })
})
afterAll(async () => {
  await stack?.close()
  await upstream?.raw.close()
})

/** Opens a streaming request; `key` names it upstream (`upstream.closed(key)`). */
function openStream(headers: Record<string, string>, apiKey = token): { key: string; req: ReturnType<typeof httpRequest>; response: Promise<IncomingMessage> } {
  const key = nextKey()
  const req = httpRequest(`${stack.url}/v1/messages`, { method: 'POST', agent: false, headers: { ...API_HEADERS, 'x-api-key': apiKey, 'x-key': key, ...headers } })
  req.on('error', () => undefined)
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve)
    req.once('error', reject)
  })
  response.catch(() => undefined) // a test that destroys the request does not wait for a response
  req.end(messageBody({ stream: true }))
  return { key, req, response }
}

async function closedRecord(id: string | undefined): Promise<AuditRecord | undefined> {
  let record: AuditRecord | undefined
  await expect
    .poll(async () => (record = await stack.gateway.audit.storage.audit.get(id ?? ''))?.outcome, { timeout: 1_500, interval: 50 })
    .not.toBe('open')
    .catch(() => undefined)
  return record
}

const normalRequestMs = async () => {
  const started = performance.now()
  const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: { ...API_HEADERS, 'x-api-key': otherToken, 'x-mode': 'pings', 'x-key': nextKey() }, signal: AbortSignal.timeout(5_000) }).catch(() => undefined)
  // One event is enough to know it is served; then go away.
  const reader = res?.body?.getReader()
  await reader?.read()
  await reader?.cancel()
  return { ms: performance.now() - started, status: res?.status }
}

/** Opens two streams at once (the rule allows 2), closes both, and answers their statuses. */
async function bothSlotsOpen(): Promise<Array<number | undefined>> {
  const both = [openStream({ 'x-mode': 'pings' }), openStream({ 'x-mode': 'pings' })]
  const statuses = await Promise.all(both.map(async (s) => (await s.response).statusCode))
  for (const s of both) s.req.destroy()
  await Promise.all(both.map((s, i) => (statuses[i] === 200 ? upstream.closed(s.key) : undefined)))
  return statuses
}

describe('client disconnects', () => {
  it('mid-stream: the upstream call is aborted and the record says interrupted', async () => {
    for (let i = 0; i < 3; i++) {
      const { key, req, response } = openStream({ 'x-mode': 'pings' })
      const res = await response
      const id = res.headers['skillgate-request-id'] as string | undefined
      await new Promise<void>((resolve) => res.once('data', () => resolve()))
      await sleep(60 * i)
      req.destroy()
      const started = performance.now()
      const end = await Promise.race([upstream.closed(key), sleep(3_000).then(() => 'not aborted' as const)])
      expect(end, 'the upstream call was aborted').toEqual({ finished: false })
      expect(performance.now() - started).toBeLessThan(1_000)
      const record = await closedRecord(id)
      expect(record).toMatchObject({ outcome: 'interrupted', status: 200 })
    }
  })

  it('releases its concurrent-stream slot: after many disconnects, streams up to the limit still open', async () => {
    for (let i = 0; i < 5; i++) {
      const { key, req, response } = openStream({ 'x-mode': 'pings' })
      const res = await response
      expect(res.statusCode).toBe(200)
      await new Promise<void>((resolve) => res.once('data', () => resolve()))
      req.destroy()
      await upstream.closed(key)
    }
    // A slot is released when the gateway sees the client leave; the release still rides the store's
    // next commit, a moment after the upstream saw the disconnect: both slots must come free, not stay taken.
    await expect.poll(bothSlotsOpen, { timeout: 5_000, interval: 50 }).toEqual([200, 200])
  })

  it('before the upstream answered: the upstream call is aborted and the record says interrupted', async () => {
    // Another principal: the slots the tests above just freed may still be in their last commit.
    const { key, req } = openStream({ 'x-mode': 'hang' }, otherToken)
    // The request reaches the upstream, which does not answer.
    // Generous waits: they only bound how long a broken gateway takes to fail, on a loaded machine too.
    await expect.poll(() => upstream.raw.received.some((r) => r.headers['x-key'] === key), { timeout: 10_000 }).toBe(true)
    const since = new Date(Date.now() - 15_000)
    req.destroy()
    const end = await Promise.race([upstream.closed(key), sleep(10_000).then(() => 'not aborted' as const)])
    expect(end, 'the upstream call was aborted').toEqual({ finished: false })
    // The client never saw a request id; find the record by time (the newest allowed one).
    const { records } = await stack.gateway.audit.storage.audit.list({ limit: 1, from: since, decision: 'allow' })
    const record = await closedRecord(records[0]?.id)
    expect(record?.outcome, 'the record of a request whose client left before the upstream answered').toBe('interrupted')
  }, 30_000)

  it('a half-sent request (headers, part of the body, then gone) forwards nothing', async () => {
    const before = upstream.raw.received.length
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(stack.url).port), '127.0.0.1', () => {
        socket.write(`POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: ${token}\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\ncontent-length: 500\r\n\r\n{"model":"claude-`)
        setTimeout(() => {
          socket.destroy()
          resolve()
        }, 100)
      })
      socket.on('error', () => resolve())
    })
    await sleep(200)
    expect(upstream.raw.received.length).toBe(before)
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
  })
})

describe('slow clients', () => {
  it('a client reading a long stream slowly: backpressure reaches the upstream, memory stays bounded, others are unaffected', async () => {
    const total = 64 * 1024 * 1024
    const baseline = liveBytes()
    const { key, response } = openStream({ 'x-mode': 'firehose', 'x-total': String(total) })
    const res = await response
    expect(res.statusCode).toBe(200)
    res.pause()
    // The client reads nothing for a while: the upstream can only fill the socket buffers on the way.
    await sleep(1_500)
    const stalled = upstream.written
    expect(stalled, `upstream wrote ${(stalled / 1048576).toFixed(1)} MiB while the client read nothing`).toBeLessThan(40 * 1024 * 1024)
    const held = liveBytes() - baseline
    expect(held, `gateway-side live memory grew by ${(held / 1048576).toFixed(1)} MiB`).toBeLessThan(32 * 1024 * 1024)
    // Other clients are served as usual meanwhile.
    for (let i = 0; i < 5; i++) {
      const other = await normalRequestMs()
      expect(other.status).toBe(200)
      expect(other.ms, 'another client waits no longer than usual').toBeLessThan(1_000)
    }
    await sleep(300)
    expect(upstream.written - stalled, 'the upstream stayed blocked while the client did not read').toBeLessThan(4 * 1024 * 1024)
    // Reading slowly: the upstream advances with the reader, not ahead of it.
    let read = 0
    const slowUntil = performance.now() + 1_000
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        read += chunk.length
        res.pause()
        if (performance.now() > slowUntil) {
          res.off('data', onData)
          resolve()
        } else setTimeout(() => res.resume(), 20)
      }
      res.on('data', onData)
      res.resume()
    })
    res.pause()
    expect(upstream.written - read, 'upstream ahead of the reader by at most the buffers in between').toBeLessThan(40 * 1024 * 1024)
    // Then at full speed to the end: every byte arrives, nothing was dropped on the way.
    let tail = ''
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        read += chunk.length
        tail = (tail + chunk.toString('latin1')).slice(-2_000)
      })
      res.once('end', resolve)
      res.once('error', reject)
      res.resume()
    })
    expect(await upstream.closed(key)).toEqual({ finished: true })
    expect(read).toBe(upstream.written + MESSAGE_START.length + STOP.length)
    console.log(`slow client: upstream offered ${total / 1048576} MiB; wrote ${(stalled / 1048576).toFixed(1)} MiB while the client read nothing; gateway live memory +${(held / 1048576).toFixed(1)} MiB`)
    expect(sseEvents(tail).at(-1)?.event).toBe('message_stop')
    const record = await closedRecord(res.headers['skillgate-request-id'] as string)
    expect(record).toMatchObject({ outcome: 'completed' })
    expect(record?.response).toMatchObject({ kind: 'sse', truncated: true })
  }, 30_000)
})

describe('oversized headers and bodies', () => {
  it('431 JSON for headers over the limit (one huge header, or many)', async () => {
    for (const headers of [{ 'x-big': 'a'.repeat(20_000) }, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h${i}`, 'b'.repeat(80)]))]) {
      const res = await rawRequest(`${stack.url}/v1/messages`, { method: 'POST', headers: { ...API_HEADERS, 'x-api-key': token, ...headers }, body: messageBody() })
      expectGatewayError(res, { status: 431, type: 'invalid_request_error', message: 'request headers are too large' })
    }
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
  })

  it('413 JSON for bodies over listen.maxBody, declared or chunked; nothing forwarded; the limit itself passes', async () => {
    const before = upstream.raw.received.length
    const big = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 1, messages: [{ role: 'user', content: 'x'.repeat(200_000) }] })
    const declared = await rawRequest(`${stack.url}/v1/messages`, { method: 'POST', headers: { ...API_HEADERS, 'x-api-key': token, 'content-length': String(Buffer.byteLength(big)) }, body: big })
    expectGatewayError(declared, { status: 413, type: 'request_too_large' })
    // Chunked: no content-length, the limit is found while reading.
    const chunked = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: string }>((resolve, reject) => {
      const req = httpRequest(`${stack.url}/v1/messages`, { method: 'POST', agent: false, headers: { ...API_HEADERS, 'x-api-key': token, 'transfer-encoding': 'chunked' } }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on('error', reject)
      const piece = big.slice(0, 8_192)
      let sent = 0
      const pump = () => {
        while (sent < 40 && req.write(piece)) sent++
        if (sent < 40) req.once('drain', pump)
        else req.end()
      }
      pump()
    })
    expectGatewayError(chunked, { status: 413, type: 'request_too_large' })
    // An anonymous client cannot make the gateway read a large body: 401 first.
    const anonymous = await rawRequest(`${stack.url}/v1/messages`, { method: 'POST', headers: { ...API_HEADERS }, body: big })
    expectGatewayError(anonymous, { status: 401, type: 'authentication_error' })
    expect(upstream.raw.received.length).toBe(before)
    // Exactly at the limit: forwarded.
    const prefix = '{"model":"claude-sonnet-4-6","max_tokens":1,"stream":true,"messages":[{"role":"user","content":"'
    const suffix = '"}]}'
    const exact = prefix + 'y'.repeat(64 * 1024 - prefix.length - suffix.length) + suffix
    expect(Buffer.byteLength(exact)).toBe(64 * 1024)
    const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: exact, headers: { ...API_HEADERS, 'x-api-key': token, 'x-mode': 'pings', 'x-key': nextKey() } })
    expect(res.status).toBe(200)
    await res.body?.cancel()
    expect(upstream.raw.received.length).toBe(before + 1)
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
  })
})

describe('malformed JSON bodies', () => {
  it('400 invalid_request_error for every malformed body; nothing forwarded; each refusal audited', async () => {
    const before = upstream.raw.received.length
    const bodies: (string | Buffer)[] = [
      '',
      '{',
      '{"model":',
      "{'model':'claude-sonnet-4-6'}",
      '{"model":"claude-sonnet-4-6",}',
      '{"model":"claude-sonnet-4-6"}{"x":1}',
      'undefined',
      'NaN',
      '[1,2',
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
      Buffer.from([0x00, 0x01, 0x02]),
      '\u0000{"model":"claude-sonnet-4-6"}',
      '{"a":"\\x41"}',
      '[' .repeat(50_000),
    ]
    for (const body of bodies) {
      const res = await rawRequest(`${stack.url}/v1/messages`, { method: 'POST', headers: { ...API_HEADERS, 'x-api-key': token }, body })
      expectGatewayError(res, { status: 400, type: 'invalid_request_error', message: 'request body is not valid JSON' })
      const record = await stack.gateway.audit.storage.audit.get(String(res.headers['skillgate-request-id']))
      expect(record).toMatchObject({ decision: 'deny', outcome: 'denied', status: 400, error: 'GW_REQUEST_MALFORMED_JSON' })
    }
    expect(upstream.raw.received.length).toBe(before)
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
  })

  /** POST with the `pings` upstream: a forwarded request answers 200 at once (then cancelled), a refusal is read whole. */
  async function send(body: string) {
    const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body, headers: { ...API_HEADERS, 'x-api-key': token, 'x-mode': 'pings', 'x-key': nextKey() } })
    if (res.status === 200) await res.body?.cancel()
    return { status: res.status, headers: res.headers, body: res.status === 200 ? '' : await res.text(), id: res.headers.get('skillgate-request-id') }
  }

  it('valid JSON that is not a Messages object (null, numbers, arrays, wrong types) is refused (4xx) or forwarded, and audited', async () => {
    for (const body of ['null', '0', '"text"', '[]', '{}', '{"model":null}', '{"model":["claude-sonnet-4-6"]}', '{"max_tokens":"9999999999999999999999"}', '{"model":"claude-sonnet-4-6","max_tokens":1,"messages":{}}']) {
      const res = await send(body)
      if (res.status !== 200) {
        expectGatewayError(res)
        expect(res.status, `${body}: ${res.body}`).toBeLessThan(500)
      }
      expect((await stack.gateway.audit.storage.audit.get(res.id ?? ''))?.id, `${body} is audited`).toBe(res.id)
    }
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
  })

  // Valid JSON (RFC 8259) the audit cannot hash as parsed: nesting beyond canonicalJson's 512 levels,
  // a number beyond double range. A client's odd body is the client's problem (4xx) or the
  // upstream's to judge (forwarded), and either way it is one audit record, not a 503 with none.
  it('JSON the audit cannot hash as parsed (nesting 600 / 20 000, 1e400) gets a 4xx or is forwarded, and is audited', async () => {
    const deep = (depth: number) => `{"model":"claude-sonnet-4-6","max_tokens":1,"messages":[{"role":"user","content":${'['.repeat(depth)}${']'.repeat(depth)}}]}`
    const bodies = { 'nesting 600': deep(600), 'nesting 20000': deep(20_000), 'number 1e400': '{"model":"claude-sonnet-4-6","max_tokens":1e400,"messages":[{"role":"user","content":"x"}]}' }
    const seen = []
    for (const [name, body] of Object.entries(bodies)) {
      const res = await send(body)
      if (res.status !== 200) expectGatewayError(res)
      const record = await stack.gateway.audit.storage.audit.get(res.id ?? '')
      seen.push({ name, status: res.status < 500 ? 'not 5xx' : `${res.status} ${res.body}`, audited: record !== undefined })
    }
    expect(seen).toEqual(Object.keys(bodies).map((name) => ({ name, status: 'not 5xx', audited: true })))
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
  })
})
