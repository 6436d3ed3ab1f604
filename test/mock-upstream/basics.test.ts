import { connect } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startMockUpstream } from '../../src/mock-upstream/index.js'
import type { MockUpstream } from '../../src/mock-upstream/index.js'
import { VERSION, messagesBody, post } from './helpers.js'

let mock: MockUpstream

beforeAll(async () => {
  mock = await startMockUpstream()
})
afterAll(async () => {
  await mock.close()
})
beforeEach(() => mock.reset())

/** One raw HTTP/1.1 exchange over a socket, so header order, case and body bytes are exactly ours. */
function rawExchange(mock: MockUpstream, bytes: Buffer): Promise<string> {
  const { port } = new URL(mock.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(bytes))
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    socket.on('error', reject)
  })
}

async function errorOf(res: Response): Promise<{ type: string; error: { type: string; message: string }; request_id: string }> {
  return (await res.json()) as { type: string; error: { type: string; message: string }; request_id: string }
}

describe('mock upstream: auth, version, headers', () => {
  it('listens on 127.0.0.1 with the default key', () => {
    expect(mock.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(mock.apiKey).toBe('sk-ant-mock-upstream-key')
  })

  it('accepts x-api-key and Authorization: Bearer', async () => {
    const viaKey = await post(mock, '/v1/messages', messagesBody())
    expect(viaKey.status).toBe(200)
    const viaBearer = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mock.apiKey}`, 'anthropic-version': '2026-10-21', 'content-type': 'application/json' },
      body: JSON.stringify(messagesBody()),
    })
    expect(viaBearer.status).toBe(200)
  })

  it.each([
    ['missing', {}, 'x-api-key header is required'],
    ['wrong x-api-key', { 'x-api-key': 'sk-ant-wrong' }, 'invalid x-api-key'],
    ['wrong bearer', { authorization: 'Bearer sk-ant-wrong' }, 'Invalid bearer token'],
  ])('answers 401 authentication_error when the credential is %s', async (_name, creds, message) => {
    const res = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'anthropic-version': VERSION, 'content-type': 'application/json', ...creds },
      body: JSON.stringify(messagesBody()),
    })
    expect(res.status).toBe(401)
    const body = await errorOf(res)
    expect(body).toEqual({ type: 'error', error: { type: 'authentication_error', message }, request_id: res.headers.get('request-id') })
    expect(mock.requests).toHaveLength(1) // rejected requests are recorded too
  })

  it('rejects a leaked client credential next to a valid one', async () => {
    const res = await post(mock, '/v1/messages', messagesBody(), { authorization: 'Bearer client-workload-token' })
    expect(res.status).toBe(401)
  })

  it('answers 400 when anthropic-version is missing', async () => {
    const res = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': mock.apiKey, 'content-type': 'application/json' }, body: JSON.stringify(messagesBody()),
    })
    expect(res.status).toBe(400)
    const body = await errorOf(res)
    expect(body.error).toEqual({ type: 'invalid_request_error', message: 'anthropic-version: header is required' })
    expect(body.request_id).toMatch(/^req_mock_/)
  })

  it('tolerates ?beta=true and records path and search apart', async () => {
    const res = await post(mock, '/v1/messages?beta=true', messagesBody())
    expect(res.status).toBe(200)
    expect(mock.requests[0]).toMatchObject({ method: 'POST', path: '/v1/messages', search: '?beta=true' })
  })

  it('sends request-id and rate-limit headers on every response', async () => {
    for (const res of [await post(mock, '/v1/messages', messagesBody()), await post(mock, '/v1/nope', {})]) {
      expect(res.headers.get('request-id')).toMatch(/^req_mock_[0-9A-Za-z]+$/)
      expect(res.headers.get('anthropic-ratelimit-requests-limit')).toBe('4000')
      expect(res.headers.get('anthropic-ratelimit-tokens-reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    }
  })

  it('answers unknown paths with 404 and wrong methods with 405, in the error shape', async () => {
    const unknown = await post(mock, '/v1/unknown', {})
    expect(unknown.status).toBe(404)
    expect((await errorOf(unknown)).error.type).toBe('not_found_error')
    const wrongMethod = await fetch(`${mock.url}/v1/messages`, { headers: { 'x-api-key': mock.apiKey, 'anthropic-version': VERSION } })
    expect(wrongMethod.status).toBe(405)
    expect((await errorOf(wrongMethod)).error.type).toBe('invalid_request_error')
  })

  it('validates the body like the real API', async () => {
    const cases: Array<[unknown, string]> = [
      [{ max_tokens: 1, messages: [] }, 'model: Field required'],
      [{ model: 'm', messages: [] }, 'max_tokens: Field required'],
      [{ model: 'm', max_tokens: 1, messages: 'x' }, 'messages: Input should be a valid list'],
    ]
    for (const [body, message] of cases) {
      const res = await post(mock, '/v1/messages', body)
      expect(res.status).toBe(400)
      expect((await errorOf(res)).error.message).toBe(message)
    }
    const bad = await fetch(`${mock.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': mock.apiKey, 'anthropic-version': VERSION, 'content-type': 'application/json' }, body: '{not json' })
    expect(bad.status).toBe(400)
    expect(mock.requests.at(-1)?.json).toBeUndefined()
  })

  it('rejects temperature on anthropic-version 2026-10-21 only', async () => {
    const body = messagesBody({ temperature: 1 })
    expect((await post(mock, '/v1/messages', body)).status).toBe(200)
    expect((await post(mock, '/v1/messages', body, { 'anthropic-version': '2026-10-21' })).status).toBe(400)
  })
})

describe('mock upstream: recording', () => {
  it('records exact bytes and raw headers in original order and case', async () => {
    // Key order, spacing and a non-ASCII character that a re-serialiser would change.
    const raw = Buffer.from('{"model":"claude-sonnet-4-6",  "max_tokens":16,"messages":[{"role":"user","content":"h\\u00e9 é"}]}')
    const head = [
      'POST /v1/messages HTTP/1.1', `Host: ${new URL(mock.url).host}`, `X-Api-Key: ${mock.apiKey}`,
      `Anthropic-Version: ${VERSION}`, 'Content-Type: application/json', 'X-Custom: one', 'x-custom: two',
      `Content-Length: ${raw.length}`, 'Connection: close', '', '',
    ].join('\r\n')
    const response = await rawExchange(mock, Buffer.concat([Buffer.from(head), raw]))
    const status = Number(response.split(' ')[1])
    expect(status).toBe(200)
    const rec = mock.requests[0]
    expect(rec?.body.equals(raw)).toBe(true)
    expect(rec?.rawHeaders.filter((_, i) => i % 2 === 0).slice(0, 6)).toEqual(['Host', 'X-Api-Key', 'Anthropic-Version', 'Content-Type', 'X-Custom', 'x-custom'])
    expect(rec?.headers['x-api-key']).toBe(mock.apiKey)
    expect(rec?.json).toMatchObject({ model: 'claude-sonnet-4-6', max_tokens: 16 })
    expect(rec?.receivedAt).toBeLessThanOrEqual(Date.now())
  })

  it('reset() clears in place', async () => {
    const held = mock.requests
    await post(mock, '/v1/messages', messagesBody())
    expect(held).toHaveLength(1)
    mock.reset()
    expect(held).toHaveLength(0)
    expect(mock.requests).toBe(held)
  })

  it('keeps at most maxRecordedRequests', async () => {
    const small = await startMockUpstream({ maxRecordedRequests: 2 })
    try {
      for (let i = 0; i < 7; i++) await post(small, '/v1/messages/count_tokens', { model: 'm', messages: [] })
      expect(small.requests.length).toBeLessThanOrEqual(4)
      expect(small.requests.length).toBeGreaterThanOrEqual(2)
    } finally {
      await small.close()
    }
  })
})
