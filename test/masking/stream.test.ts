import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MaskingError, type SseEventIn } from '../../src/masking/index.js'
import { compilePatternSet } from '../../src/masking/pattern-set.js'
import { TextScanner } from '../../src/masking/scanner.js'
import { detectors } from '../../src/masking/detectors/index.js'
import {
  PING, PLANTED, TICKET, WORDS, assertNoEmptyDelta, assertNoLeak, blockStart, blockStop, defaultMasker, emitted, ev,
  jsonDelta, runStream, splitAt, textDelta,
} from './helpers.js'

const masker = defaultMasker()
const MESSAGE_START = ev({ type: 'message_start', message: { id: 'msg_01', type: 'message', role: 'assistant', content: [], usage: { input_tokens: 3, output_tokens: 1 } } })
const MESSAGE_DELTA = ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 9 } })
const MESSAGE_STOP = ev({ type: 'message_stop' })

/** One text block whose text arrives as the given deltas. */
function textStream(deltas: readonly string[], index = 0): SseEventIn[] {
  return [MESSAGE_START, blockStart(index, { type: 'text', text: '' }), PING, ...deltas.map((d) => textDelta(index, d)), blockStop(index), MESSAGE_DELTA, MESSAGE_STOP]
}

/** Events that are not text deltas, in order: they must pass through unchanged and unreordered. */
const skeleton = (events: readonly SseEventIn[]): SseEventIn[] =>
  events.filter((e) => !(e.event === 'content_block_delta' && (e.data as { delta: { type: string } }).delta.type === 'text_delta'))

/** The corpus document: every planted secret between filler words. */
const plantedLine = (p: (typeof PLANTED)[number], i: number): string => `${WORDS[i % WORDS.length]!} ${p.value} ${WORDS[(i * 7) % WORDS.length]!}`
const CORPUS = PLANTED.map(plantedLine).join('\n')

function checkStream(deltas: readonly string[]): void {
  const full = deltas.join('')
  const expected = masker.maskText(full)
  const input = textStream(deltas)
  const out = runStream(masker, input)
  expect(emitted(out, 0)).toBe(expected.text)
  assertNoLeak(out, PLANTED)
  assertNoEmptyDelta(out)
  expect(skeleton(out)).toEqual(skeleton(input))
  // Every text delta sits between its block's start and stop.
  const start = out.findIndex((e) => e.event === 'content_block_start')
  const stop = out.findIndex((e) => e.event === 'content_block_stop')
  out.forEach((e, i) => {
    if (e.event === 'content_block_delta') expect(i > start && i < stop).toBe(true)
  })
}

describe('stream masking of text deltas', () => {
  it('reproduces reference §17.5: hold back only what could still be an e-mail', () => {
    const stream = masker.createStreamMasker()
    const texts = (events: SseEventIn[]) => events.map((e) => (e.data as { delta?: { text?: string } }).delta?.text ?? e.event)
    expect(texts(stream.push(blockStart(0, { type: 'text', text: '' })))).toEqual(['content_block_start'])
    expect(texts(stream.push(textDelta(0, 'Mail alice.s')))).toEqual(['Mail '])
    expect(texts(stream.push(textDelta(0, 'mith@ex')))).toEqual([])
    expect(texts(stream.push(textDelta(0, 'ample.com now.')))).toEqual(['[REDACTED:email] '])
    expect(texts(stream.push(blockStop(0)))).toEqual(['now.', 'content_block_stop'])
    expect(stream.hits).toEqual({ email: 1 })
  })

  it('delays nothing that cannot start a match', () => {
    const stream = masker.createStreamMasker()
    stream.push(blockStart(0, { type: 'text', text: '' }))
    for (const chunk of ['!!! ', '??? ', ';;; ', '*** ']) {
      expect(stream.push(textDelta(0, chunk)).map((e) => (e.data as { delta: { text: string } }).delta.text)).toEqual([chunk])
    }
  })

  it('passes an unchanged delta through as the same event object', () => {
    const stream = masker.createStreamMasker()
    stream.push(blockStart(0, { type: 'text', text: '' }))
    const delta = textDelta(0, '!!! ')
    expect(stream.push(delta)[0]).toBe(delta)
  })

  it('split at every position into two deltas: same text as maskText, nothing leaks', () => {
    for (let k = 0; k <= CORPUS.length; k++) checkStream([CORPUS.slice(0, k), CORPUS.slice(k)])
  })

  it('random delta sequences over random documents', () => {
    const doc = fc
      .array(fc.oneof(fc.constantFrom(...WORDS), fc.constantFrom(...PLANTED.map((p) => p.value))), { minLength: 1, maxLength: 30 })
      .map((parts) => parts.join(' '))
    const withCuts = doc.chain((text) => fc.tuple(fc.constant(text), fc.array(fc.nat({ max: text.length }), { maxLength: 40 })))
    fc.assert(fc.property(withCuts, ([text, cuts]) => checkStream(splitAt(text, cuts))), { numRuns: 400 })
  })

  it('one code unit per delta', () => {
    checkStream([...CORPUS].flatMap((ch) => ch.split('')))
  })

  it('never holds back more than the longest maxLength (+1 to keep a surrogate pair together)', () => {
    const { set } = compilePatternSet([...Object.values(detectors), TICKET])
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.string()), { maxLength: 40 }), (chunks) => {
        const scanner = new TextScanner(set!, {})
        for (const chunk of chunks) {
          scanner.push(chunk)
          expect(scanner.held).toBeLessThanOrEqual(set!.maxHoldBack + 1)
        }
      }),
    )
    expect(masker.maxHoldBack).toBe(8192)
  })

  it('keeps interleaved blocks apart and every other event in input order', () => {
    const half = Math.ceil(PLANTED.length / 2)
    const texts = [PLANTED.slice(0, half).map(plantedLine).join('\n'), PLANTED.slice(half).map(plantedLine).join('\n')]
    const arb = fc.tuple(
      fc.array(fc.nat({ max: texts[0]!.length }), { maxLength: 12 }),
      fc.array(fc.nat({ max: texts[1]!.length }), { maxLength: 12 }),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 60, maxLength: 60 }),
    )
    fc.assert(
      fc.property(arb, ([cuts0, cuts1, schedule]) => {
        const queues = [splitAt(texts[0]!, cuts0).map((t) => textDelta(0, t)), splitAt(texts[1]!, cuts1).map((t) => textDelta(1, t))]
        const input: SseEventIn[] = [MESSAGE_START, blockStart(0, { type: 'text', text: '' }), blockStart(1, { type: 'text', text: '' })]
        for (const pick of schedule) input.push(pick === 2 ? PING : (queues[pick]!.shift() ?? PING))
        input.push(...queues[0]!, ...queues[1]!, blockStop(1), blockStop(0), MESSAGE_DELTA, MESSAGE_STOP)
        const out = runStream(masker, input)
        expect(emitted(out, 0)).toBe(masker.maskText(texts[0]!).text)
        expect(emitted(out, 1)).toBe(masker.maskText(texts[1]!).text)
        expect(skeleton(out)).toEqual(skeleton(input))
        assertNoLeak(out, PLANTED)
        assertNoEmptyDelta(out)
        const stop1 = out.findIndex((e) => e.event === 'content_block_stop')
        expect(out.slice(stop1).some((e) => e.event === 'content_block_delta' && (e.data as { index: number }).index === 1)).toBe(false)
      }),
      { numRuns: 150 },
    )
  })

  it('end() flushes a block that never stopped; message_delta flushes open blocks first', () => {
    const stream = masker.createStreamMasker()
    stream.push(blockStart(0, { type: 'text', text: '' }))
    expect(stream.push(textDelta(0, 'write to bob@example.com'))).toHaveLength(1)
    const flushed = stream.end()
    expect(emitted(flushed, 0)).toBe('[REDACTED:email]')
    expect(stream.end()).toEqual([])
    expect(() => stream.push(PING)).toThrow(MaskingError)

    const out = runStream(masker, [blockStart(0, { type: 'text', text: '' }), textDelta(0, 'ip 10.0.0.1'), MESSAGE_DELTA])
    expect(out.map((e) => e.event)).toEqual(['content_block_start', 'content_block_delta', 'content_block_delta', 'message_delta'])
    expect(emitted(out, 0)).toBe('ip [REDACTED:ipv4]')
  })

  it('masks text carried by content_block_start itself together with its deltas', () => {
    const out = runStream(masker, [blockStart(0, { type: 'text', text: 'mail alice.sm' }), textDelta(0, 'ith@example.com'), blockStop(0)])
    expect((out[0]!.data as { content_block: { text: string } }).content_block.text).toBe('')
    expect(emitted(out, 0)).toBe('mail [REDACTED:email]')
  })
})

describe('stream masking of tool input (input_json_delta)', () => {
  const input = { to: 'alice.smith@example.com', body: 'key AKIAIOSFODNN7EXAMPLE', password: 'hunter2', n: 3, nested: [{ ip: '10.1.2.3' }] }
  const json = JSON.stringify(input)
  const withFields = defaultMasker({ fields: ['content[*].input.password'] })

  function toolStream(parts: readonly string[]): SseEventIn[] {
    return [MESSAGE_START, blockStart(0, { type: 'tool_use', id: 'toolu_01', name: 'send', input: {} }), ...parts.map((p) => jsonDelta(0, p)), blockStop(0), MESSAGE_DELTA]
  }

  it('buffers the JSON, masks string values and whole fields, emits one valid delta before the stop (every split)', () => {
    const expected = { ...input, to: '[REDACTED:email]', body: 'key [REDACTED:aws-access-key]', password: '[REDACTED:field]', nested: [{ ip: '[REDACTED:ipv4]' }] }
    for (let k = 0; k <= json.length; k++) {
      const out = runStream(withFields, toolStream([json.slice(0, k), json.slice(k)]))
      const deltas = out.filter((e) => e.event === 'content_block_delta')
      expect(deltas).toHaveLength(1)
      expect(out[out.indexOf(deltas[0]!) + 1]!.event).toBe('content_block_stop')
      expect(JSON.parse(emitted(out, 0, 'input_json_delta'))).toEqual(expected)
      assertNoLeak(out, PLANTED)
    }
  })

  it('forwards the original JSON text when nothing matched', () => {
    const raw = '{"city": "Paris",  "days": [1, 2]}'
    const out = runStream(masker, toolStream(['{"city": "Pa', 'ris",  "days": [1, 2]}']))
    expect(emitted(out, 0, 'input_json_delta')).toBe(raw)
  })

  it('cut-off JSON: masked as text without field paths, withheld with them', () => {
    const cut = ['{"to": "alice.smith@exam', 'ple.com", "pass']
    expect(emitted(runStream(masker, toolStream(cut)), 0, 'input_json_delta')).toBe('{"to": "[REDACTED:email]", "pass')
    const out = runStream(withFields, toolStream(cut))
    expect(out.filter((e) => e.event === 'content_block_delta')).toEqual([])
  })

  it('emits nothing for an empty input', () => {
    expect(runStream(masker, toolStream(['', ''])).filter((e) => e.event === 'content_block_delta')).toEqual([])
  })
})

describe('other deltas and blocks', () => {
  it('thinking: keep passes deltas unchanged, mask holds back like text; signatures never change', () => {
    const secret = 'AKIAIOSFODNN7EXAMPLE'
    const events = [
      blockStart(0, { type: 'thinking', thinking: '', signature: '' }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: `use AKIAIOSF` } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'ODNN7EXAMPLE now' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: `sig-${secret}` } }),
      blockStop(0),
    ]
    expect(runStream(masker, events)).toEqual(events)
    const out = runStream(defaultMasker({ thinking: 'mask' }), events)
    expect(emitted(out, 0, 'thinking_delta')).toBe('use [REDACTED:aws-access-key] now')
    expect(out.find((e) => (e.data as { delta?: { type: string } }).delta?.type === 'signature_delta')).toBe(events[3])
  })

  it('citations_delta: cited_text and titles are masked, locations and encrypted indexes are not', () => {
    const citation = { type: 'web_search_result_location', url: 'https://x.example/a', title: 'Contact bob@example.com', encrypted_index: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.', cited_text: 'reach bob@example.com' }
    const out = runStream(masker, [blockStart(0, { type: 'text', text: '', citations: null }), ev({ type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation } }), blockStop(0)])
    expect((out[1]!.data as { delta: { citation: unknown } }).delta.citation).toEqual({ ...citation, title: 'Contact [REDACTED:email]', cited_text: 'reach [REDACTED:email]' })
  })

  it('complete blocks in content_block_start are masked there; opaque fields are untouched', () => {
    const blocks = [
      { type: 'bash_code_execution_tool_result', tool_use_id: 'srvtoolu_1', content: { type: 'bash_code_execution_result', stdout: 'AWS_KEY=AKIAIOSFODNN7EXAMPLE\n', stderr: '', return_code: 0, content: [] } },
      { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_2', content: [{ type: 'web_search_result', url: 'https://a.example', title: 'Call +1 415 555 0132', encrypted_content: 'AKIAIOSFODNN7EXAMPLE', page_age: null }] },
      { type: 'mcp_tool_result', tool_use_id: 'mcptoolu_3', is_error: false, content: [{ type: 'text', text: 'host 192.168.10.254' }] },
      { type: 'redacted_thinking', data: 'AKIAIOSFODNN7EXAMPLE' },
    ]
    const out = runStream(masker, blocks.flatMap((b, i) => [blockStart(i, b), blockStop(i)]))
    const started = out.filter((e) => e.event === 'content_block_start').map((e) => (e.data as { content_block: unknown }).content_block)
    expect(started).toEqual([
      { ...blocks[0], content: { ...blocks[0]!.content, stdout: 'AWS_KEY=[REDACTED:aws-access-key]\n' } },
      { ...blocks[1], content: [{ ...(blocks[1]!.content as object[])[0], title: 'Call [REDACTED:phone]' }] },
      { ...blocks[2], content: [{ type: 'text', text: 'host [REDACTED:ipv4]' }] },
      blocks[3],
    ])
  })

  it('whole-field paths on streamed text replace the text and drop its deltas', () => {
    const m = defaultMasker({ fields: ['content[1].text'] })
    const out = runStream(m, [blockStart(0, { type: 'text', text: '' }), textDelta(0, 'keep'), blockStop(0), blockStart(1, { type: 'text', text: '' }), textDelta(1, 'secret plan'), blockStop(1)])
    expect(emitted(out, 0)).toBe('keep')
    expect(emitted(out, 1)).toBe('')
    expect((out[3]!.data as { content_block: { text: string } }).content_block.text).toBe('[REDACTED:field]')
  })

  it('passes ping, message events and unknown events through as the same objects', () => {
    const unknown = { event: 'future_event', data: { type: 'future_event', payload: 'bob@example.com' } }
    const events = [MESSAGE_START, PING, unknown, MESSAGE_DELTA, MESSAGE_STOP]
    const out = runStream(masker, events)
    out.forEach((e, i) => expect(e).toBe(events[i]))
  })

  it('throws MaskingError on malformed content events instead of passing text through', () => {
    const stream = () => masker.createStreamMasker()
    expect(() => stream().push(ev({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'x' } }))).toThrow(MaskingError)
    expect(() => stream().push(ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 5 } }))).toThrow(MaskingError)
    expect(() => stream().push(ev({ type: 'content_block_delta', index: 0 }))).toThrow(MaskingError)
    expect(() => stream().push({ event: 'content_block_delta', data: { type: 'ping', index: 0 } })).toThrow(MaskingError)
    expect(() => stream().push(ev({ type: 'content_block_start', index: 0 }))).toThrow(MaskingError)
  })
})
