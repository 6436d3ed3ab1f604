import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileMasker, type SseEventIn } from '../../src/masking/index.js'
import { SseEventTooLargeError, SseFramer } from '../../src/sse/framer.js'
import { parseSseEvent, serializeSseEvent } from '../../src/sse/parse-event.js'
import { fuzzSeed } from './helpers.js'

/**
 * Reliability fuzzing of the streaming path without a server (docs/reliability.md, "fuzzing"):
 * the SSE framer and parser at any chunking and on arbitrary bytes, and the stream masker fed
 * through framer → parser → masker → serializer (what mask-response does) at random byte and
 * delta splits. Seeds are printed by fast-check on failure (`fc.assert` rethrows with the seed).
 */

/** Splits `bytes` at the given cut points (any order, duplicates allowed). */
function chunk(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b)
  return points.slice(1).map((p, i) => bytes.subarray(points[i], p))
}

function frameAll(chunks: readonly Uint8Array[], max?: number): { frames: Buffer[]; rest: Buffer | undefined } {
  const framer = new SseFramer(max)
  const frames = chunks.flatMap((c) => framer.push(c))
  return { frames, rest: framer.end() }
}

const EOL = fc.constantFrom('\n', '\r\n', '\r')
/** A field value: no CR or LF (those end a line), any other code point including astral ones. */
const value = fc
  .string({ unit: fc.oneof(fc.constantFrom('a', 'z', ' ', ':', '{', '"', '\u00e9', '\u{1F600}', '\u0000', '\t'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 40 })
  .map((s) => s.replace(/[\r\n]/g, ''))
const name = fc.stringMatching(/^[a-z_]{1,16}$/)

/**
 * One well-formed event: optional comment, optional event line, one or more data lines, in one
 * line-ending style (mixing CR with a following LF would read as one CRLF, in any parser).
 */
const event = fc.record({
  comment: fc.option(value, { nil: undefined }),
  name: fc.option(name, { nil: undefined }),
  data: fc.array(value, { minLength: 1, maxLength: 4 }),
  eol: EOL,
})
type Ev = typeof event extends fc.Arbitrary<infer T> ? T : never

function render(e: Ev): string {
  let text = ''
  if (e.comment !== undefined) text += `:${e.comment}${e.eol}`
  if (e.name !== undefined) text += `event: ${e.name}${e.eol}`
  for (const d of e.data) text += `data: ${d}${e.eol}`
  return text + e.eol
}

const expected = (e: Ev) => ({ event: e.name ?? 'message', data: e.data.join('\n') })

describe('SSE framer and parser (fast-check)', () => {
  it('any chunking of well-formed events gives the same events, byte for byte, and the parser reads each back', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 30 }), (events, cuts) => {
        const texts = events.map(render)
        const bytes = Buffer.from(texts.join(''))
        const { frames, rest } = frameAll(chunk(bytes, cuts))
        // A trailing CR-ended blank line is only confirmed by the next byte or the end of the stream.
        const all = rest ? [...frames, rest] : frames
        expect(all.map((f) => f.toString())).toEqual(texts)
        all.forEach((f, i) => expect(parseSseEvent(f)).toEqual(expected(events[i] as Ev)))
      }),
      { numRuns: 400, ...fuzzSeed },
    )
  })

  it('arbitrary bytes: never throws below its bound, never loses or adds a byte, and chunking does not matter', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc.array(fc.constantFrom('event: x', 'data: {}', '\n', '\r', '\r\n', ':c', 'data', ' ', '\u00ff', '\u{1F600}'), { maxLength: 60 }).map((parts) => Buffer.from(parts.join(''))),
    )
    fc.assert(
      fc.property(bytesArb, fc.array(fc.nat(), { maxLength: 20 }), (raw, cuts) => {
        const bytes = Buffer.from(raw)
        const whole = frameAll([bytes])
        const split = frameAll(chunk(bytes, cuts))
        const join = (r: ReturnType<typeof frameAll>) => Buffer.concat([...r.frames, ...(r.rest ? [r.rest] : [])])
        expect(Buffer.compare(join(split), bytes)).toBe(0)
        expect(split.frames.map((f) => f.toString('latin1'))).toEqual(whole.frames.map((f) => f.toString('latin1')))
        for (const f of split.frames) {
          expect(f.at(-1) === 0x0a || f.at(-1) === 0x0d).toBe(true)
          expect(() => parseSseEvent(f)).not.toThrow()
        }
      }),
      { numRuns: 400, ...fuzzSeed },
    )
  })

  it('an event over maxEventBytes throws SseEventTooLargeError and nothing else; the bound holds at any chunking', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 256 }), fc.integer({ min: 0, max: 600 }), fc.array(fc.nat(), { maxLength: 10 }), (max, size, cuts) => {
        const bytes = Buffer.from(`data: ${'x'.repeat(size)}`)
        const framer = new SseFramer(max)
        let thrown: unknown
        try {
          for (const c of chunk(bytes, cuts)) framer.push(c)
        } catch (error) {
          thrown = error
        }
        if (bytes.length > max) expect(thrown).toBeInstanceOf(SseEventTooLargeError)
        else expect(thrown).toBeUndefined()
      }),
      { numRuns: 300, ...fuzzSeed },
    )
  })

  it('serializeSseEvent never lets a value inject another event', () => {
    fc.assert(
      fc.property(name, fc.string({ maxLength: 80 }), (n, data) => {
        const framed = serializeSseEvent(n, data)
        const { frames, rest } = frameAll([framed])
        expect(rest).toBeUndefined()
        expect(frames).toHaveLength(1)
        expect(parseSseEvent(frames[0] as Buffer)).toEqual({ event: n, data: data.split(/\r\n|\r|\n/).join('\n') })
      }),
      { numRuns: 300, ...fuzzSeed },
    )
  })
})

// ---------------------------------------------------------------------------------------------

const SECRETS = [
  { detector: 'email', value: 'alice.smith@example.com', fragment: 'smith@ex' },
  { detector: 'credit-card', value: '4111 1111 1111 1111', fragment: '1111 1111 1111' },
  { detector: 'aws-access-key', value: 'AKIAIOSFODNN7EXAMPLE', fragment: 'IOSFODNN7EX' },
  { detector: 'anthropic-key', value: `sk-ant-api03-${'Zx9_Qw-3'.repeat(11)}AA`, fragment: 'Zx9_Qw-3Zx9_Qw-3' },
  { detector: 'ticket', value: 'SEC-1234567', fragment: '1234567' },
] as const
const WORDS = ['release', 'notes', 'are', 'ready', 'the', 'gateway', 'masks', 'in', 'streams', 'and', 'é', '😀', '.', '\n']
const masker = compileMasker(
  [
    { name: 'default', detectors: ['email', 'credit-card', 'aws-access-key', 'anthropic-key'] },
    { name: 'tickets', patterns: [{ name: 'ticket', regex: '\\b(OPS|SEC|INC)-[0-9]{1,7}\\b', maxLength: 16 }] },
  ],
  { thinking: 'keep' },
)

const wire = (event: string, data: unknown, eol: string) => `event: ${event}${eol}data: ${JSON.stringify(data)}${eol}${eol}`

/** Exactly the stage's steps: framer → parser → JSON → masker → serializer (untouched events keep their bytes). */
function relay(chunks: readonly Buffer[]): Buffer {
  const stream = masker.createStreamMasker()
  const framer = new SseFramer()
  const out: Buffer[] = []
  const handle = (raw: Buffer) => {
    const { event, data } = parseSseEvent(raw)
    const input: SseEventIn = { event, data: JSON.parse(data) as unknown }
    for (const o of stream.push(input)) out.push(o === input ? raw : serializeSseEvent(o.event, JSON.stringify(o.data)))
  }
  for (const c of chunks) for (const raw of framer.push(c)) handle(raw)
  const rest = framer.end()
  if (rest) handle(rest)
  for (const o of stream.end()) out.push(serializeSseEvent(o.event, JSON.stringify(o.data)))
  return Buffer.concat(out)
}

describe('stream masker through the framer at random splits (fast-check)', () => {
  it('the client text equals the masked full text and no secret or fragment of one ever leaves', () => {
    const pieces = fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.constantFrom(...SECRETS.map((s) => s.value))), { minLength: 1, maxLength: 14 })
    fc.assert(
      fc.property(pieces, fc.array(fc.nat(), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), EOL, fc.boolean(), (parts, deltaCuts, byteCuts, eol, toolInput) => {
        const text = parts.join(' ')
        const chars = Array.from(text)
        const points = [...new Set([0, ...deltaCuts.map((c) => c % (chars.length + 1)), chars.length])].sort((a, b) => a - b)
        const deltas = points.slice(1).map((p, i) => chars.slice(points[i], p).join('')).filter((d) => d !== '')
        let wireText = wire('message_start', { type: 'message_start', message: { id: 'msg_f', type: 'message', role: 'assistant', content: [], usage: { input_tokens: 1, output_tokens: 1 } } }, eol)
        wireText += wire('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, eol)
        for (const d of deltas) wireText += wire('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: d } }, eol)
        wireText += wire('content_block_stop', { type: 'content_block_stop', index: 0 }, eol)
        if (toolInput) {
          const json = JSON.stringify({ note: text })
          wireText += wire('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'save', input: {} } }, eol)
          for (let i = 0; i < json.length; i += 7) wireText += wire('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: json.slice(i, i + 7) } }, eol)
          wireText += wire('content_block_stop', { type: 'content_block_stop', index: 1 }, eol)
        }
        wireText += wire('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }, eol) + wire('message_stop', { type: 'message_stop' }, eol)
        const out = relay(chunk(Buffer.from(wireText), byteCuts)).toString('utf8')
        for (const s of SECRETS) {
          expect(out, `${s.detector} leaked`).not.toContain(s.value)
          expect(out, `${s.detector} fragment leaked`).not.toContain(s.fragment)
        }
        const events = out.split(/\r\n\r\n|\n\n|\r\r/).filter((f) => f.trim() !== '').map((f) => parseSseEvent(Buffer.from(f)))
        const parsed = events.map((e) => ({ event: e.event, data: JSON.parse(e.data) as { index?: number; delta?: { type?: string; text?: string; partial_json?: string } } }))
        const textOut = parsed.filter((e) => e.data.index === 0 && e.data.delta?.type === 'text_delta').map((e) => e.data.delta?.text ?? '').join('')
        expect(textOut).toBe(masker.maskText(text).text)
        if (toolInput) {
          const input = parsed.filter((e) => e.data.index === 1 && e.data.delta?.type === 'input_json_delta').map((e) => e.data.delta?.partial_json ?? '').join('')
          expect(JSON.parse(input)).toEqual({ note: masker.maskText(text).text })
        }
        expect(parsed.at(-1)?.event).toBe('message_stop')
      }),
      { numRuns: 300, ...fuzzSeed },
    )
  })
})
