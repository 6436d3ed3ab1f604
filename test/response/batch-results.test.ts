import { afterEach, describe, expect, it, vi } from 'vitest'
import { linesOf, wholeLineBlocks } from '../../src/response/observed-lines.js'
import { PLANTED } from '../masking/helpers.js'
import { cut, runResponse } from './helpers.js'

/**
 * Batch results (JSONL) through observe → own → mask: each line parsed once for owners and
 * masking together, whole lines only, the same bytes at every split point, untouched lines as
 * received.
 */
const email = PLANTED.find((p) => p.detector === 'email')!
const line = (id: string, text: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: id, result: { type: 'succeeded', message: { id: `msg_${id}`, type: 'message', role: 'assistant', content: [{ type: 'text', text }], ...extra } } })
const body = Buffer.from([
  line('a', 'nothing here'),
  line('b', `write to ${email.value}`, { container: { id: 'container_b', expires_at: '2026-12-08T00:00:00Z' } }),
  JSON.stringify({ custom_id: 'c', result: { type: 'errored', error: { type: 'invalid_request_error', message: 'no' } } }),
  line('d', 'clean again'),
].join('\n') + '\n')
const PATH = '/v1/messages/batches/msgbatch_1/results'

afterEach(() => vi.restoreAllMocks())

describe('batch results share one parse per line', () => {
  it('records owners and masks with one JSON.parse per line', async () => {
    await runResponse('GET', PATH, 'application/binary', [body]) // compiles the masker first
    const parse = vi.spyOn(JSON, 'parse')
    // A fresh buffer: the lines of `body` itself were parsed (and memoised) by the run above.
    const { chunks, recorded } = await runResponse('GET', PATH, 'application/binary', [Buffer.from(body)])
    expect(parse.mock.calls.length).toBe(4)
    expect(recorded.map((o) => o.id)).toEqual(['container_b'])
    const text = Buffer.concat(chunks).toString('utf8')
    expect(text).not.toContain(email.value)
    expect(text.split('\n')[0]).toBe(line('a', 'nothing here'))
    expect(text.split('\n')[2]).toContain('"errored"')
  })

  it('gives the same bytes at every split point', async () => {
    const expected = Buffer.concat((await runResponse('GET', PATH, 'application/binary', [body])).chunks).toString('utf8')
    expect(expected).toContain('[REDACTED:email]')
    for (let k = 1; k < body.length; k++) {
      const { chunks, recorded } = await runResponse('GET', PATH, 'application/binary', cut(body, k))
      const got = Buffer.concat(chunks).toString('utf8')
      if (got !== expected) expect({ k, got }).toEqual({ k, got: expected })
      expect(recorded.map((o) => o.id)).toEqual(['container_b'])
    }
  })

  it('wholeLineBlocks passes a chunk that ends a line as the same object, and keeps every byte', async () => {
    const chunk = Buffer.from('{"a":1}\n{"b":2}\n')
    async function* of(...parts: Buffer[]) {
      yield* parts
    }
    const blocks: Buffer[] = []
    for await (const block of wholeLineBlocks(of(chunk))) blocks.push(block)
    expect(blocks[0]).toBe(chunk)
    const split: Buffer[] = []
    for await (const block of wholeLineBlocks(of(Buffer.from('{"a"'), Buffer.from(':1}\n{"b"'), Buffer.from(':2}')))) split.push(block)
    expect(split.map(String)).toEqual(['{"a":1}\n', '{"b":2}'])
    expect(linesOf(split[0]!)).toBe(linesOf(split[0]!))
    expect(linesOf(split[0]!).map((l) => l.json)).toEqual([{ a: 1 }])
  })
})
