import { describe, expect, it } from 'vitest'
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
