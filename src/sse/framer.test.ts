import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { SseFramer, SseEventTooLargeError } from './framer.js'

const transcript = [
  'event: message_start\ndata: {"type":"message_start"}\n\n',
  'event: ping\ndata: {"type": "ping"}\n\n',
  ': a comment\nevent: content_block_delta\ndata: {"text":"h\u00e9llo \u{1F600}"}\n\n',
  'event: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n',
  'event: x\rdata: {}\r\r',
]
const bytes = Buffer.from(transcript.join(''))

/** Frames with both kinds of framer (copying, and views of chunks that stay unchanged); both must agree. */
function frameAll(chunks: Buffer[]): string[] {
  const texts = [false, true].map((views) => {
    const framer = new SseFramer(undefined, { chunksStayUnchanged: views })
    const out = chunks.flatMap((c) => framer.push(c))
    const rest = framer.end()
    if (rest) out.push(rest)
    return out.map((b) => b.toString())
  })
  expect(texts[1]).toEqual(texts[0])
  return texts[0] as string[]
}

describe('SseFramer', () => {
  it('copies events out of chunks the caller may reuse, and shares the memory of chunks that stay unchanged', () => {
    const chunk = Buffer.from(transcript.slice(0, 2).join(''))
    const [copied] = new SseFramer().push(chunk)
    const [shared] = new SseFramer(undefined, { chunksStayUnchanged: true }).push(chunk)
    expect(shared?.toString()).toBe(transcript[0])
    chunk.fill(0x78)
    expect(copied?.toString()).toBe(transcript[0])
    expect(shared?.toString()).toBe('x'.repeat(transcript[0]!.length))
  })

  it('splits whole events and keeps every byte', () => {
    expect(frameAll([bytes])).toEqual(transcript)
  })

  it('gives the same events at every split point', () => {
    for (let k = 0; k <= bytes.length; k++) {
      expect(frameAll([bytes.subarray(0, k), bytes.subarray(k)])).toEqual(transcript)
    }
  })

  it('gives the same events for any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 20 }), (cuts) => {
        const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b)
        const chunks = points.slice(1).map((p, i) => bytes.subarray(points[i], p))
        expect(frameAll(chunks)).toEqual(transcript)
      }),
    )
  })

  it('frames LF-only streams (the searched fast path) like the byte-by-byte rules, for any chunking', () => {
    // The rules on a whole LF-only text: an event ends at an LF that begins a line.
    const reference = (text: string): string[] => {
      const out: string[] = []
      let start = 0
      let atLineStart = true
      for (let i = 0; i < text.length; i++) {
        if (text[i] !== '\n') {
          atLineStart = false
          continue
        }
        if (atLineStart) {
          out.push(text.slice(start, i + 1))
          start = i + 1
        }
        atLineStart = true
      }
      if (start < text.length) out.push(text.slice(start))
      return out
    }
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', ':', ' ', '\n', '\n\n', 'data: x\n'), { maxLength: 40 }), fc.array(fc.nat(200), { maxLength: 8 }), (parts, cuts) => {
        const all = Buffer.from(parts.join(''))
        const points = [...new Set([0, ...cuts.map((c) => c % (all.length + 1)), all.length])].sort((a, b) => a - b)
        expect(frameAll(points.slice(1).map((p, i) => all.subarray(points[i], p)))).toEqual(reference(all.toString()))
      }),
      { seed: 15, numRuns: 500 },
    )
  })

  it('switches between the LF-only and the CR paths mid-stream', () => {
    const mixed = Buffer.from('event: a\ndata: 1\n\nevent: b\rdata: 2\r\r\nevent: c\ndata: 3\n\n')
    for (let k = 0; k <= mixed.length; k++) {
      expect(frameAll([mixed.subarray(0, k), mixed.subarray(k)])).toEqual(['event: a\ndata: 1\n\n', 'event: b\rdata: 2\r\r\n', 'event: c\ndata: 3\n\n'])
    }
  })

  it('returns a trailing partial event at the end', () => {
    expect(frameAll([Buffer.from('event: a\ndata: 1\n\nevent: b\ndata: 2')])).toEqual(['event: a\ndata: 1\n\n', 'event: b\ndata: 2'])
  })

  it('refuses an event larger than its bound', () => {
    const framer = new SseFramer(16)
    expect(() => framer.push(Buffer.from('data: 0123456789abcdef'))).toThrow(SseEventTooLargeError)
  })
})
