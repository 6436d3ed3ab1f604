import { describe, expect, it } from 'vitest'
import { buildCompletion, buildOpening } from '../../src/audit/record-builder.js'
import { assembleRecord } from '../../src/audit/record.js'
import { replayRecord, sseText } from '../../src/audit/replay.js'
import { StreamRecorder } from '../../src/audit/stream-log.js'

const stream: Array<[string, unknown]> = [
  ['message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 11, output_tokens: 1 } } }],
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
  ['ping', { type: 'ping' }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello ' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '[REDACTED:email]' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"q": "rel' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'ease"}' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 1 }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 27 } }],
  ['message_stop', { type: 'message_stop' }],
]

function record(maxEvents?: number) {
  const recorder = new StreamRecorder(1_000, maxEvents === undefined ? {} : { maxEvents })
  stream.forEach(([event, data], i) => recorder.add(event, JSON.stringify(data), 1_000 + 100 + i * 50))
  return recorder
}

describe('stream recorder', () => {
  it('assembles the message as the SDK would and logs every event with its offset', () => {
    const response = record().response('text/event-stream')
    expect(response).toMatchObject({ kind: 'sse', truncated: false })
    if (response.kind !== 'sse') throw new Error('unreachable')
    expect(response.message).toEqual({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'text', text: 'Hello [REDACTED:email]' },
        { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'release' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 11, output_tokens: 27 },
    })
    expect(response.events.map((e) => e.t)).toEqual(stream.map((_, i) => 100 + i * 50))
    expect(response.events[3]).toMatchObject({ event: 'content_block_delta', data: JSON.stringify(stream[3]?.[1]) })
  })

  it('bounds the log but still assembles the whole message', () => {
    const response = record(3).response(null)
    if (response.kind !== 'sse') throw new Error('unreachable')
    expect(response.events).toHaveLength(3)
    expect(response.truncated).toBe(true)
    expect((response.message as { stop_reason: string }).stop_reason).toBe('tool_use')
  })
})

describe('replay', () => {
  it('re-emits the recorded events with their timing, scaled by speed', async () => {
    const start = new Date('2030-01-01T00:00:00.000Z')
    const opening = buildOpening({ id: '01JB7Z5Q9W3Y4X2V1T0S9R8Q7P', start, decision: { effect: 'allow', reasons: [] }, endpoint: 'messages', method: 'POST', path: '/v1/messages', requestBytes: 1, content: 'masked' })
    const completion = buildCompletion({ start, end: start, outcome: 'completed', response: record().response('text/event-stream'), content: 'masked' })
    const pos = { seq: 1, prevHash: '0'.repeat(64), hash: '1'.repeat(64) }
    const waits: number[] = []
    const frames = []
    for await (const frame of replayRecord(assembleRecord(opening, completion, { open: pos, close: pos }), { speed: 2, sleep: async (ms) => waits.push(ms) })) frames.push(frame)
    expect(frames.map((f) => f.event)).toEqual(stream.map(([e]) => e))
    expect(waits).toEqual(Array.from({ length: stream.length - 1 }, () => 25))
    expect(sseText({ event: 'message_stop', data: '{"type":"message_stop"}' })).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    expect(() => sseText({ event: 'a\nb', data: '' })).toThrow(/line breaks/)
  })
})
