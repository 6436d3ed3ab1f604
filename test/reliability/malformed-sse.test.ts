import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultRules, messageBody, startStack, type Stack } from '../e2e/harness.js'
import { API_HEADERS, isAnthropicError, sseEvents, startRawUpstream, type RawUpstream } from './helpers.js'
import { drained } from '../../src/http/drained.js'

/**
 * Reliability: the upstream speaks broken SSE (docs/reliability.md, "malformed SSE"). A raw server
 * stands in for Claude and sends garbage frames, data-only frames, an unterminated last event, an
 * oversized event, odd line endings. Without masking the client gets the bytes exactly as framed
 * (or an `event: error`); with masking it gets masked text or an `event: error`, never the raw
 * secret; the gateway never crashes and records each response.
 */
const SECRET = 'alice.smith@example.com'
const FRAGMENTS = ['alice.smith', 'smith@ex', 'example.com']

const ev = (event: string | undefined, data: unknown, eol = '\n') =>
  `${event === undefined ? '' : `event: ${event}${eol}`}data: ${typeof data === 'string' ? data : JSON.stringify(data)}${eol}${eol}`
const START = ev('message_start', { type: 'message_start', message: { id: 'msg_raw', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [], stop_reason: null, usage: { input_tokens: 1, output_tokens: 1 } } })
const BLOCK = ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
const delta = (text: string, eol = '\n') => ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }, eol)
const END = ev('content_block_stop', { type: 'content_block_stop', index: 0 }) + ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }) + ev('message_stop', { type: 'message_stop' })

/** What the upstream sends for each `x-case` (a list of writes, so events straddle TCP writes). */
const CASES: Record<string, () => (string | Buffer)[]> = {
  garbage: () => [
    START,
    BLOCK,
    Buffer.from([0x00, 0xff, 0xfe, 0x0a]),
    `not an sse line at all ${SECRET}\n\n`,
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Mail ',
    `${SECRET.slice(0, 9)}\n\n`, // the JSON is cut: data is not JSON
    'retry: nonsense\nid: \u0000\n: comment\n\n',
    END,
  ],
  'data-only': () => [START, BLOCK, ev(undefined, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `Mail ${SECRET} now` } }), END],
  'wrong-event-name': () => [START, BLOCK, ev('ping', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `Mail ${SECRET}` } }), END],
  unterminated: () => [START, BLOCK, delta('Mail alice.sm'), delta('ith@example.com now').replace(/\n\n$/, '')],
  oversized: () => [START, BLOCK, delta('Mail '), `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${SECRET} `, ...Array.from({ length: 17 }, () => 'y'.repeat(1024 * 1024))],
  'line-endings': () => [START, BLOCK, delta('Mail alice.', '\r\n'), delta('smith@exa', '\r'), delta('mple.com now', '\n'), END.replace(/\n/g, '\r\n')],
  'content-in-message-start': () => [
    ev('message_start', { type: 'message_start', message: { id: 'msg_raw', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [{ type: 'text', text: `Mail ${SECRET}` }], stop_reason: null, usage: { input_tokens: 1, output_tokens: 1 } } }),
    END,
  ],
}

let upstream: RawUpstream
let plain: Stack
let masked: Stack
const tokens = new Map<Stack, string>()
const sent = new Map<string, Buffer>()

beforeAll(async () => {
  upstream = await startRawUpstream((req: IncomingMessage, res: ServerResponse) => {
    const name = String(req.headers['x-case'])
    const writes = (CASES[name] ?? (() => ['event: nope\n\n']))()
    sent.set(name, Buffer.concat(writes.map((w) => (typeof w === 'string' ? Buffer.from(w) : w))))
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'request-id': 'req_malformed' })
    void (async () => {
      for (const w of writes) {
        if (res.destroyed) return
        if (!res.write(w)) await drained(res)
        await new Promise((r) => setImmediate(r))
      }
      res.end()
    })()
  })
  plain = await startStack({ upstreamUrl: upstream.url })
  masked = await startStack({
    upstreamUrl: upstream.url,
    configure: (c) => {
      c.masking = { profiles: { default: { detectors: ['email', 'credit-card', 'anthropic-key', 'aws-access-key'] } } }
      c.rules = [{ ...structuredClone(defaultRules[0]), masking: ['default'] }]
    },
  })
  for (const s of [plain, masked]) tokens.set(s, await s.mint({}, { expiresIn: 900 }))
})
afterAll(async () => {
  await plain?.close()
  await masked?.close()
  await upstream?.close()
})

async function call(stack: Stack, name: string) {
  const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: { ...API_HEADERS, 'x-api-key': tokens.get(stack) ?? '', 'x-case': name } })
  const bytes = Buffer.from(await res.arrayBuffer())
  return { status: res.status, bytes, text: bytes.toString('utf8'), id: res.headers.get('skillgate-request-id') ?? '' }
}

/** The text of the text deltas the client received, in order. */
function deltaText(text: string): string {
  return sseEvents(text)
    .filter((e) => e.event === 'content_block_delta')
    .map((e) => {
      try {
        return String((JSON.parse(e.data) as { delta?: { text?: unknown } }).delta?.text ?? '')
      } catch {
        return ''
      }
    })
    .join('')
}

/** The client text ends with one `event: error` holding an Anthropic error. */
function endsWithErrorEvent(text: string): boolean {
  const last = sseEvents(text).at(-1)
  if (last?.event !== 'error') return false
  try {
    return isAnthropicError(JSON.parse(last.data))
  } catch {
    return false
  }
}

async function expectServing(stack: Stack) {
  expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
  const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: { ...API_HEADERS, 'x-api-key': tokens.get(stack) ?? '', 'x-case': 'line-endings' } })
  expect(res.status).toBe(200)
  expect(await res.text()).toContain('message_stop')
}

describe('malformed SSE from the upstream, no masking', () => {
  for (const name of ['garbage', 'data-only', 'wrong-event-name', 'unterminated', 'line-endings', 'content-in-message-start']) {
    it(`${name}: relayed byte for byte as the upstream framed it`, async () => {
      const res = await call(plain, name)
      expect(res.status).toBe(200)
      expect(Buffer.compare(res.bytes, sent.get(name) ?? Buffer.alloc(0)), res.text.slice(0, 300)).toBe(0)
      const record = await plain.gateway.audit.storage.audit.get(res.id)
      expect(['completed', 'error']).toContain(record?.outcome)
    })
  }

  it('oversized event (over 16 MiB): the events before it, then event: error; the gateway stays up', async () => {
    const res = await call(plain, 'oversized')
    expect(res.status).toBe(200)
    expect(res.text.startsWith(START + BLOCK + delta('Mail '))).toBe(true)
    expect(endsWithErrorEvent(res.text), res.text.slice(-300)).toBe(true)
    expect(res.text).not.toContain(SECRET)
    expect(res.bytes.length).toBeLessThan(64 * 1024)
    expect((await plain.gateway.audit.storage.audit.get(res.id))?.outcome).toBe('error')
    await expectServing(plain)
  })
})

describe('malformed SSE from the upstream, with masking', () => {
  for (const name of Object.keys(CASES)) {
    it(`${name}: masked text or event: error, never the raw secret`, async () => {
      const res = await call(masked, name)
      expect(res.status).toBe(200)
      for (const fragment of [SECRET, ...FRAGMENTS]) expect(res.text, `${name} leaks "${fragment}"`).not.toContain(fragment)
      const ok = endsWithErrorEvent(res.text) || res.text.includes('[REDACTED:email]')
      expect(ok, `${name}: neither masked nor ended with event: error:\n${res.text.slice(0, 600)}`).toBe(true)
      // Well-formed text split over odd framing is masked, not refused.
      if (name === 'unterminated' || name === 'line-endings') expect(deltaText(res.text)).toBe('Mail [REDACTED:email] now')
      const record = await masked.gateway.audit.storage.audit.get(res.id)
      expect(['completed', 'error']).toContain(record?.outcome)
      expect(JSON.stringify(record)).not.toContain(SECRET)
    })
  }

  it('the gateway is still serving after every malformed stream', async () => {
    await expectServing(masked)
    await expectServing(plain)
  })
})
