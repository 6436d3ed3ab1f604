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

function frameAll(chunks: Buffer[]): string[] {
  const framer = new SseFramer()
  const out = chunks.flatMap((c) => framer.push(c))
  const rest = framer.end()
  if (rest) out.push(rest)
  return out.map((b) => b.toString())
}

describe('SseFramer', () => {
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

  it('returns a trailing partial event at the end', () => {
    expect(frameAll([Buffer.from('event: a\ndata: 1\n\nevent: b\ndata: 2')])).toEqual(['event: a\ndata: 1\n\n', 'event: b\ndata: 2'])
  })

  it('refuses an event larger than its bound', () => {
    const framer = new SseFramer(16)
    expect(() => framer.push(Buffer.from('data: 0123456789abcdef'))).toThrow(SseEventTooLargeError)
  })
})
