/** Test helpers for the mock upstream: HTTP calls, an SSE parser, a grammar checker and an assembler. */
import { expect } from 'vitest'
import type { MockUpstream } from '../../src/mock-upstream/index.js'

export interface SseEvent {
  event: string | null
  data: string
  json: Record<string, unknown>
}

export const VERSION = '2023-06-01'

export function authHeaders(mock: MockUpstream, extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-api-key': mock.apiKey, 'anthropic-version': VERSION, 'content-type': 'application/json', ...extra }
}

export function messagesBody(extra: Record<string, unknown> = {}, text = 'hi'): Record<string, unknown> {
  return { model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{ role: 'user', content: text }], ...extra }
}

export async function post(mock: MockUpstream, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${mock.url}${path}`, { method: 'POST', headers: authHeaders(mock, headers), body: JSON.stringify(body) })
}

/** Splits on blank lines exactly as a strict SSE reader would (the mock only emits `\n`). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = []
  for (const chunk of text.split('\n\n')) {
    if (chunk.trim() === '') continue
    let event: string | null = null
    const data: string[] = []
    for (const line of chunk.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
      else throw new Error(`unexpected SSE line: ${JSON.stringify(line)}`)
    }
    const joined = data.join('\n')
    events.push({ event, data: joined, json: JSON.parse(joined) as Record<string, unknown> })
  }
  return events
}

export async function streamEvents(mock: MockUpstream, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ res: Response; events: SseEvent[] }> {
  const res = await post(mock, '/v1/messages', { ...body, stream: true }, headers)
  const text = await res.text()
  return { res, events: parseSse(text) }
}

type Block = Record<string, unknown> & { type: string }

/**
 * Checks the §7.2 grammar (event name = data.type, ping after the first block start, indices 0..n in
 * order, deltas only inside their block, cumulative usage, message_stop last) and returns the assembled
 * message, as a client would build it.
 */
export function checkGrammarAndAssemble(events: SseEvent[]): Record<string, unknown> & { content: Block[] } {
  for (const e of events) expect(e.event).toBe(e.json.type)
  const names = events.map((e) => e.event)
  expect(names[0]).toBe('message_start')
  expect(names.at(-1)).toBe('message_stop')
  expect(names.at(-2)).toBe('message_delta')
  const firstStart = names.indexOf('content_block_start')
  expect(names[firstStart + 1]).toBe('ping')
  const start = events[0]?.json.message as Record<string, unknown>
  const message: Record<string, unknown> & { content: Block[] } = { ...start, content: [] }
  let open: number | undefined
  const jsonBuffers = new Map<number, string>()
  for (const e of events.slice(1, -2)) {
    const d = e.json
    if (e.event === 'ping') continue
    const index = d.index as number
    if (e.event === 'content_block_start') {
      expect(open).toBeUndefined()
      expect(index).toBe(message.content.length)
      message.content.push({ ...(d.content_block as Block) })
      open = index
    } else if (e.event === 'content_block_delta') {
      expect(index).toBe(open)
      applyDelta(message.content[index] as Block, d.delta as Record<string, unknown>, jsonBuffers, index)
    } else if (e.event === 'content_block_stop') {
      expect(index).toBe(open)
      const buffered = jsonBuffers.get(index)
      if (buffered !== undefined) (message.content[index] as Block).input = buffered === '' ? {} : JSON.parse(buffered)
      open = undefined
    } else throw new Error(`unexpected event ${String(e.event)}`)
  }
  const delta = events.at(-2)?.json as { delta: Record<string, unknown>; usage: Record<string, number> }
  const startUsage = start.usage as Record<string, number>
  expect(delta.usage.output_tokens).toBeGreaterThanOrEqual(startUsage.output_tokens ?? 0)
  expect(delta.usage.input_tokens).toBe(startUsage.input_tokens)
  Object.assign(message, { stop_reason: delta.delta.stop_reason, stop_sequence: delta.delta.stop_sequence, usage: { ...startUsage, ...delta.usage } })
  if (delta.delta.container !== undefined) message.container = delta.delta.container
  return message
}

function applyDelta(block: Block, delta: Record<string, unknown>, buffers: Map<number, string>, index: number): void {
  switch (delta.type) {
    case 'text_delta':
      expect(block.type).toBe('text')
      block.text = `${String(block.text)}${String(delta.text)}`
      break
    case 'thinking_delta':
      expect(block.type).toBe('thinking')
      block.thinking = `${String(block.thinking)}${String(delta.thinking)}`
      break
    case 'signature_delta':
      expect(block.type).toBe('thinking')
      block.signature = delta.signature
      break
    case 'input_json_delta':
      expect(['tool_use', 'server_tool_use', 'mcp_tool_use']).toContain(block.type)
      buffers.set(index, (buffers.get(index) ?? '') + String(delta.partial_json))
      break
    default:
      throw new Error(`unexpected delta ${String(delta.type)}`)
  }
}

/** A syntactically valid unsigned JWT (the mock does not verify signatures). */
export function fakeJwt(claims: Record<string, unknown> = { sub: 'ci', iss: 'https://issuer.example' }): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc(claims)}.c2lnbmF0dXJl`
}
