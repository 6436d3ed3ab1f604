import { gunzipSync } from 'node:zlib'
import { request } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startMockUpstream } from '../../src/mock-upstream/index.js'
import type { MockUpstream } from '../../src/mock-upstream/index.js'
import { authHeaders, messagesBody, parseSse, post } from './helpers.js'

let mock: MockUpstream

beforeAll(async () => {
  mock = await startMockUpstream()
})
afterAll(async () => {
  await mock.close()
})
beforeEach(() => {
  mock.reset()
  mock.setFrameDelay(0)
})

describe('error triggers', () => {
  it.each([
    [400, 'invalid_request_error', 'false'],
    [429, 'rate_limit_error', 'true'],
    [500, 'api_error', 'true'],
    [529, 'overloaded_error', 'true'],
  ])('model mock-error-%i answers that status with %s, stream or not', async (status, type, shouldRetry) => {
    for (const stream of [false, true]) {
      const res = await post(mock, '/v1/messages', messagesBody({ model: `mock-error-${status}`, stream }))
      expect(res.status).toBe(status)
      expect(res.headers.get('content-type')).toBe('application/json')
      expect(res.headers.get('x-should-retry')).toBe(shouldRetry)
      const body = (await res.json()) as { type: string; error: { type: string; message: string }; request_id: string }
      expect(body.type).toBe('error')
      expect(body.error.type).toBe(type)
      expect(body.request_id).toBe(res.headers.get('request-id'))
      if (status === 429) expect(res.headers.get('retry-after')).toBe('1')
      if (status === 529) expect(body.error.message).toBe('Overloaded')
    }
  })

  it('header mock-error-status works with any model, count_tokens included', async () => {
    const res = await post(mock, '/v1/messages/count_tokens', { model: 'claude-sonnet-4-6', messages: [] }, { 'mock-error-status': '503' })
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('api_error')
  })
})

describe('mid-stream failures', () => {
  it('mock-stream-error-after: N sends event: error after N deltas and no message_stop', async () => {
    const res = await post(mock, '/v1/messages', messagesBody({ stream: true }), { 'mock-stream-error-after': '2' })
    expect(res.status).toBe(200)
    const events = parseSse(await res.text())
    expect(events.filter((e) => e.event === 'content_block_delta')).toHaveLength(2)
    const last = events.at(-1)
    expect(last?.event).toBe('error')
    expect(last?.json).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: res.headers.get('request-id') })
    expect(events.some((e) => e.event === 'message_stop' || e.event === 'message_delta')).toBe(false)
  })

  it('an N beyond the last delta cuts before message_delta', async () => {
    const res = await post(mock, '/v1/messages', messagesBody({ stream: true }), { 'mock-stream-error-after': '999' })
    const names = parseSse(await res.text()).map((e) => e.event)
    expect(names.slice(-2)).toEqual(['content_block_stop', 'error'])
  })

  it('mock-stream-reset-after: N drops the connection after N deltas', async () => {
    const { data, error } = await new Promise<{ data: string; error: Error | undefined }>((resolve) => {
      const req = request(`${mock.url}/v1/messages`, { method: 'POST', headers: authHeaders(mock, { 'mock-stream-reset-after': '3' }) }, (res) => {
        let data = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (data += c))
        res.on('error', (error) => resolve({ data, error }))
        res.on('end', () => resolve({ data, error: undefined }))
        res.on('close', () => resolve({ data, error: res.complete ? undefined : new Error('aborted') }))
      })
      req.end(JSON.stringify(messagesBody({ stream: true })))
    })
    expect(error).toBeDefined()
    expect(data.match(/event: content_block_delta/g)).toHaveLength(3)
    expect(data).not.toContain('message_stop')
  })
})

describe('timing', () => {
  it('mock-first-byte-delay-ms waits before the headers', async () => {
    const t0 = performance.now()
    const res = await post(mock, '/v1/messages', messagesBody(), { 'mock-first-byte-delay-ms': '150' })
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140)
    expect(res.status).toBe(200)
  })

  it('frame delays space out SSE frames (setter and per-request header)', async () => {
    const timeStream = async (headers: Record<string, string> = {}): Promise<number> => {
      const t0 = performance.now()
      const res = await post(mock, '/v1/messages', messagesBody({ stream: true }), headers)
      await res.text()
      return performance.now() - t0
    }
    // 13 frames (message_start, block start, ping, 7 deltas, block stop, message_delta, message_stop) = 12 gaps.
    mock.setFrameDelay(10)
    expect(await timeStream()).toBeGreaterThanOrEqual(110)
    mock.setFrameDelay(0)
    expect(await timeStream({ 'mock-delay-ms': '10' })).toBeGreaterThanOrEqual(110)
    const events = parseSse(await (await post(mock, '/v1/messages', messagesBody({ stream: true }), { 'mock-delay-ms': '1' })).text())
    expect(events).toHaveLength(13)
  })

  it('close() cuts streams in progress', async () => {
    const slow = await startMockUpstream({ frameDelayMs: 1000 })
    const res = await post(slow, '/v1/messages', messagesBody({ stream: true }))
    const reading = res.text().catch((err: unknown) => err)
    await slow.close()
    expect(await reading).toBeInstanceOf(Error)
  })
})

describe('mock-gzip', () => {
  it('compresses JSON when asked and accepted', async () => {
    const res = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve) => {
      const req = request(`${mock.url}/v1/messages`, {
        method: 'POST', headers: authHeaders(mock, { 'mock-gzip': '1', 'accept-encoding': 'gzip, deflate' }),
      }, (r) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => resolve({ encoding: r.headers['content-encoding'], body: Buffer.concat(chunks) }))
      })
      req.end(JSON.stringify(messagesBody()))
    })
    expect(res.encoding).toBe('gzip')
    expect(JSON.parse(gunzipSync(res.body).toString('utf8'))).toMatchObject({ type: 'message' })
  })
})
