import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { parseSseEvent, serializeSseEvent } from './parse-event.js'

describe('parseSseEvent', () => {
  it('reads name and data with every line ending, comments and multi-line data', () => {
    expect(parseSseEvent(Buffer.from('event: ping\ndata: {"type": "ping"}\n\n'))).toEqual({ event: 'ping', data: '{"type": "ping"}' })
    expect(parseSseEvent(Buffer.from(': c\r\nevent:x\r\ndata:a\r\ndata: b\r\n\r\n'))).toEqual({ event: 'x', data: 'a\nb' })
    expect(parseSseEvent(Buffer.from('data: only\r\r'))).toEqual({ event: 'message', data: 'only' })
  })

  it('round-trips what it serialises and refuses injected names', () => {
    const frame = serializeSseEvent('content_block_delta', '{"a":1}')
    expect(frame.toString()).toBe('event: content_block_delta\ndata: {"a":1}\n\n')
    expect(parseSseEvent(frame)).toEqual({ event: 'content_block_delta', data: '{"a":1}' })
    expect(() => serializeSseEvent('x\nevent: evil', '{}')).toThrow()
  })
})

/** The straightforward reading of the WHATWG rules (the implementation before issue #15): the reference. */
function reference(raw: Buffer): { event: string; data: string } {
  let event = 'message'
  const data: string[] = []
  for (const line of raw.toString('utf8').split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }
  return { event, data: data.join('\n') }
}

describe('parseSseEvent agrees with the reference reading', () => {
  const piece = fc.constantFrom('event', 'data', 'event: ', 'data: ', 'data:', 'id: 1', ':', ': c', ' ', 'x', 'é', '😀', '{"a":1}', '\n', '\r', '\r\n', '\n\n')
  it('on the fast path shape and on anything made of SSE pieces', () => {
    fc.assert(fc.property(fc.array(piece, { maxLength: 24 }), (pieces) => {
      const raw = Buffer.from(pieces.join(''))
      expect(parseSseEvent(raw)).toEqual(reference(raw))
    }), { numRuns: 2000 })
    fc.assert(fc.property(fc.string(), fc.string(), (name, data) => {
      const raw = Buffer.from(`event: ${name}\ndata: ${data}\n\n`)
      expect(parseSseEvent(raw)).toEqual(reference(raw))
    }))
  })
})
