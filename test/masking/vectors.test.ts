import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SseEventIn } from '../../src/masking/index.js'
import {
  PLANTED, assemble, assertNoEmptyDelta, assertNoLeak, defaultMasker, emitted, parseSse, rechunk, type Planted,
} from './helpers.js'

/**
 * SSE transcripts in test/vectors/masking/*.sse (reference §17 shapes) with the content a client
 * must end up holding (*.expected.json). Each is replayed as recorded, re-chunked at every split
 * point of every text and tool-input channel, and re-chunked at random; and the same upstream
 * message, sent as non-streaming JSON, must mask to the same content.
 */
const dir = fileURLToPath(new URL('../vectors/masking/', import.meta.url))

interface Expected {
  readonly description: string
  readonly thinking?: 'keep' | 'mask'
  readonly content: unknown[]
  readonly hits: Record<string, number>
  readonly mustNotContain: string[]
}

const vectors = readdirSync(dir)
  .filter((f) => f.endsWith('.sse'))
  .sort()
  .map((file) => ({
    name: file.replace(/\.sse$/, ''),
    events: parseSse(readFileSync(`${dir}${file}`, 'utf8')),
    expected: JSON.parse(readFileSync(`${dir}${file.replace(/\.sse$/, '.expected.json')}`, 'utf8')) as Expected,
  }))

/** The channels a vector streams: (block index, delta type) pairs. */
function channels(events: readonly SseEventIn[]): Array<[number, string]> {
  const seen = new Map<string, [number, string]>()
  for (const { data } of events) {
    const d = data as { type: string; index: number; delta?: { type: string } }
    if (d.type === 'content_block_delta' && d.delta && d.delta.type !== 'signature_delta' && d.delta.type !== 'citations_delta') {
      seen.set(`${d.index}:${d.delta.type}`, [d.index, d.delta.type])
    }
  }
  return [...seen.values()]
}

/** Event names and indices other than deltas: their sequence must survive masking. */
const frame = (events: readonly SseEventIn[]) =>
  events.filter((e) => e.event !== 'content_block_delta').map((e) => `${e.event}:${String((e.data as { index?: number }).index)}`)

describe.each(vectors)('vector $name', ({ events, expected }) => {
  const masker = defaultMasker({ thinking: expected.thinking ?? 'keep' })
  const leaks: Planted[] = [...PLANTED, { detector: 'vector', value: '\u0000never', fragments: expected.mustNotContain }]

  function check(input: readonly SseEventIn[]): void {
    const stream = masker.createStreamMasker()
    const out: SseEventIn[] = []
    for (const event of input) out.push(...stream.push(event))
    out.push(...stream.end())
    expect(assemble(out)).toEqual(expected.content)
    expect(stream.hits).toEqual(expected.hits)
    expect(frame(out)).toEqual(frame(input))
    assertNoLeak(out, leaks)
    assertNoEmptyDelta(out)
  }

  it(`as recorded`, () => check(events))

  it('re-chunked into two deltas at every split point of every channel', () => {
    for (const [index, deltaType] of channels(events)) {
      const length = emitted(events, index, deltaType).length
      for (let k = 0; k <= length; k++) check(rechunk(events, index, deltaType, [k]))
    }
  })

  it('re-chunked at random', () => {
    const chans = channels(events)
    if (chans.length === 0) return
    const arb = fc.array(fc.tuple(fc.nat({ max: chans.length - 1 }), fc.array(fc.nat({ max: 2000 }), { maxLength: 30 })), { maxLength: 4 })
    fc.assert(
      fc.property(arb, (plans) => {
        let input: SseEventIn[] = [...events]
        for (const [c, cuts] of plans) input = rechunk(input, chans[c]![0], chans[c]![1], cuts)
        check(input)
      }),
      { numRuns: 100, seed: 20261129 },
    )
  })

  it('masks the same upstream message sent as JSON to the same content', () => {
    const upstream = { id: 'msg_x', type: 'message', role: 'assistant', content: assemble(events), usage: { output_tokens: 1 } }
    const result = masker.maskMessageJson(Buffer.from(JSON.stringify(upstream)))
    expect((JSON.parse(result.body.toString('utf8')) as { content: unknown }).content).toEqual(expected.content)
    expect(result.hits).toEqual(expected.hits)
  })
})
