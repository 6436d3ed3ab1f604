import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageBody, startStack, type Stack } from './harness.js'

let stack: Stack

beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack.close()
})

const post = (path: string, body: Buffer | string, headers: Record<string, string>) =>
  fetch(stack.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers } })

function lastRequest() {
  const request = stack.mock.requests.at(-1)
  if (!request) throw new Error('nothing reached the upstream')
  return request
}

describe('authentication', () => {
  it('refuses a request without a token with 401, Anthropic-shaped, and forwards nothing', async () => {
    stack.mock.reset()
    const res = await post('/v1/messages', messageBody(), {})
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    const id = res.headers.get('skillgate-request-id')
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.stringContaining('no credential') }, request_id: id })
    expect(stack.mock.requests).toHaveLength(0)
  })

  it('refuses a token signed by another key, an expired token and a malformed one', async () => {
    stack.mock.reset()
    const other = await generateKeyPair('ES256')
    const forged = await stack.mint({}, { key: other.privateKey })
    const expired = await stack.mint({ iat: Math.floor(Date.now() / 1000) - 600 }, { expiresIn: -300 })
    for (const token of [forged, expired, 'not.a.token', `${forged}x`]) {
      const res = await post('/v1/messages', messageBody(), { authorization: `Bearer ${token}` })
      expect(res.status).toBe(401)
      expect(((await res.json()) as { error: { message: string } }).error.message).not.toContain(token.slice(0, 20))
    }
    expect(stack.mock.requests).toHaveLength(0)
  })

  it('refuses different credentials in Authorization and x-api-key', async () => {
    const token = await stack.mint()
    const res = await post('/v1/messages', messageBody(), { authorization: `Bearer ${token}`, 'x-api-key': await stack.mint() })
    expect(res.status).toBe(401)
  })

  it('accepts the same token in both headers, as Claude Code sends it', async () => {
    const token = await stack.mint()
    const res = await post('/v1/messages', messageBody(), { authorization: `Bearer ${token}`, 'x-api-key': token })
    expect(res.status).toBe(200)
  })
})

describe('authorization', () => {
  it('answers 403 naming the rule and the model, and forwards nothing', async () => {
    stack.mock.reset()
    const res = await post('/v1/messages', '{"model":"gpt-4","max_tokens":1,"messages":[]}', { 'x-api-key': await stack.mint() })
    expect(res.status).toBe(403)
    const body = (await res.json()) as { error: { type: string; message: string } }
    expect(body.error).toEqual({ type: 'permission_error', message: 'model not granted: rule ci-app; model gpt-4 is not in allow.models' })
    expect(stack.mock.requests).toHaveLength(0)
  })

  it('answers 403 for a tenant no rule pins', async () => {
    const res = await post('/v1/messages', messageBody(), { 'x-api-key': await stack.mint({ repository_owner_id: '666' }) })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('no rule allows this identity: no allow rule matches this identity')
  })

  it('answers 403 for /v1 paths that are not granted Claude API endpoints', async () => {
    stack.mock.reset()
    const res = await fetch(`${stack.url}/v1/organizations/users`, { headers: { 'x-api-key': await stack.mint() } })
    expect(res.status).toBe(403)
    expect(stack.mock.requests).toHaveLength(0)
  })

  it('refuses paths with dot segments or encoded slashes before anything else', async () => {
    for (const path of ['/v1/files/../messages', '/v1/files/%2e%2e/messages', '/v1//messages', '/v1/files%2Fx']) {
      const res = await fetch(stack.url + path, { method: 'POST', headers: { 'x-api-key': await stack.mint() } })
      expect(res.status, path).toBe(400)
    }
  })
})

describe('forwarding', () => {
  it('forwards body bytes, query string and API headers unchanged, and swaps the credential', async () => {
    stack.mock.reset()
    const token = await stack.mint()
    const body = messageBody()
    const res = await post('/v1/messages?beta=true', body, {
      'x-api-key': token,
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'claude-code-20250219,oauth-2025-04-20,context-1m-2025-08-07',
      'x-stainless-retry-count': '0',
      'skillgate-rule': 'ci-app',
      cookie: 'session=1',
    })
    expect(res.status).toBe(200)
    const seen = lastRequest()
    expect(seen.path).toBe('/v1/messages')
    expect(seen.search).toBe('?beta=true')
    expect(Buffer.compare(seen.body, body)).toBe(0)
    expect(seen.headers['x-api-key']).toBe(stack.mock.apiKey)
    expect(seen.headers.authorization).toBeUndefined()
    expect(seen.headers['anthropic-version']).toBe('2023-06-01')
    expect(seen.headers['anthropic-beta']).toBe('claude-code-20250219,context-1m-2025-08-07')
    expect(seen.headers['x-stainless-retry-count']).toBe('0')
    for (const dropped of ['skillgate-rule', 'cookie']) expect(seen.headers[dropped], dropped).toBeUndefined()
    expect(JSON.stringify(seen.rawHeaders)).not.toContain(token)
    expect(res.headers.get('request-id')).toMatch(/^req_/)
    expect(res.headers.get('skillgate-request-id')).toMatch(/^[0-9A-Z]{26}$/)
  })

  it('passes upstream errors through unchanged, with their headers', async () => {
    const token = await stack.mint()
    for (const [model, status, type] of [
      ['mock-error-429', 429, 'rate_limit_error'],
      ['mock-error-529', 529, 'overloaded_error'],
      ['mock-error-500', 500, 'api_error'],
    ] as const) {
      const res = await post('/v1/messages', `{"model":"${model}","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, { 'x-api-key': token })
      expect(res.status).toBe(status)
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe(type)
      if (status === 429) expect(res.headers.get('retry-after')).toBe('1')
    }
  })

  it('relays SSE with event lines, flushing each event as it arrives', async () => {
    stack.mock.setFrameDelay(60)
    try {
      const started = performance.now()
      const res = await post('/v1/messages', messageBody({ stream: true }), { 'x-api-key': await stack.mint() })
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
      const reader = res.body!.getReader()
      const arrivals: number[] = []
      let text = ''
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        arrivals.push(performance.now() - started)
        text += Buffer.from(value).toString()
      }
      const events = text.split('\n\n').filter(Boolean).map((frame) => /^event: (.+)$/m.exec(frame)?.[1])
      expect(events[0]).toBe('message_start')
      expect(events.at(-1)).toBe('message_stop')
      expect(events).not.toContain(undefined)
      // Events arrive spread over the stream's life, not in one burst at the end.
      expect(arrivals.length).toBeGreaterThan(3)
      expect(arrivals[0]!).toBeLessThan(arrivals.at(-1)! - 120)
    } finally {
      stack.mock.setFrameDelay(0)
    }
  })

  it('turns an upstream reset mid-stream into an SSE error event', async () => {
    const res = await post('/v1/messages', messageBody({ stream: true }), { 'x-api-key': await stack.mint(), 'mock-stream-reset-after': '2' })
    expect(res.status).toBe(200)
    const text = await res.text()
    const frames = text.split('\n\n').filter(Boolean)
    expect(frames.at(-1)).toMatch(/^event: error\ndata: /)
    const error = JSON.parse(frames.at(-1)!.split('data: ')[1]!)
    expect(error).toMatchObject({ type: 'error', error: { type: 'api_error', message: 'upstream stream failed' } })
    expect(text).not.toContain('message_stop')
  })

  it('passes an upstream SSE error event through as the upstream sent it', async () => {
    const res = await post('/v1/messages', messageBody({ stream: true }), { 'x-api-key': await stack.mint(), 'mock-stream-error-after': '1' })
    const text = await res.text()
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error"/)
  })

  it('refuses bodies over the limit with 413 and malformed JSON with 400', async () => {
    const small = await startStack({ configure: (c) => ((c.listen as Record<string, unknown>).maxBody = '1KiB') })
    try {
      const token = await small.mint()
      const big = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 1, messages: [{ role: 'user', content: 'x'.repeat(2_000) }] })
      const res = await fetch(`${small.url}/v1/messages`, { method: 'POST', body: big, headers: { 'x-api-key': token } })
      expect(res.status).toBe(413)
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe('request_too_large')
      const bad = await fetch(`${small.url}/v1/messages`, { method: 'POST', body: '{"model":', headers: { 'x-api-key': token } })
      expect(bad.status).toBe(400)
      expect(small.mock.requests).toHaveLength(0)
    } finally {
      await small.close()
    }
  })

  it('forwards GET endpoints with their query (models) and multipart uploads (files) byte for byte', async () => {
    stack.mock.reset()
    const token = await stack.mint()
    const models = await fetch(`${stack.url}/v1/models?limit=2`, { headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01' } })
    expect(models.status).toBe(200)
    expect(lastRequest().search).toBe('?limit=2')
    const form = new FormData()
    form.append('file', new Blob([Buffer.from('a,b\n1,2\n')], { type: 'text/csv' }), 'data.csv')
    const upload = new Request(`${stack.url}/v1/files`, { method: 'POST', body: form, headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01' } })
    const sent = Buffer.from(await upload.clone().arrayBuffer())
    const res = await fetch(upload)
    expect(res.status).toBe(200)
    expect(Buffer.compare(lastRequest().body, sent)).toBe(0)
    expect(lastRequest().multipart?.[0]).toMatchObject({ name: 'file', filename: 'data.csv' })
  })
})

describe('upstream failures', () => {
  it('answers 502 when the upstream is unreachable', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    const dead = await startStack({ upstreamUrl: `http://127.0.0.1:${port}` })
    try {
      const res = await fetch(`${dead.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': await dead.mint() } })
      expect(res.status).toBe(502)
      expect(await res.json()).toMatchObject({ error: { type: 'api_error', message: 'upstream unreachable' } })
    } finally {
      await dead.close()
    }
  })

  it('answers 504 when the first byte takes longer than upstream.timeouts.firstByte', async () => {
    const slow = await startStack({ configure: (c) => ((c.upstream as Record<string, unknown>).timeouts = { firstByte: '200ms' }) })
    try {
      const res = await fetch(`${slow.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': await slow.mint(), 'anthropic-version': '2023-06-01', 'mock-first-byte-delay-ms': '1500' } })
      expect(res.status).toBe(504)
    } finally {
      await slow.close()
    }
  })

  it('aborts the upstream call when the client disconnects mid-stream', async () => {
    let upstreamClosed!: () => void
    const closedPromise = new Promise<void>((r) => (upstreamClosed = r))
    const upstream = createServer((req: IncomingMessage, res) => {
      req.resume()
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('event: message_start\ndata: {"type":"message_start"}\n\n')
      const timer = setInterval(() => res.write('event: ping\ndata: {"type":"ping"}\n\n'), 50)
      res.on('close', () => {
        clearInterval(timer)
        upstreamClosed()
      })
    })
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
    const gw = await startStack({ upstreamUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` })
    try {
      const token = await gw.mint()
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': token, 'content-type': 'application/json' } }, (res) => {
          res.once('data', () => {
            req.destroy()
            resolve()
          })
        })
        req.on('error', () => undefined)
        req.setTimeout(5_000, () => reject(new Error('no data')))
        req.end(messageBody({ stream: true }))
      })
      await closedPromise
      await expect.poll(() => gw.logs.join('')).toContain('"outcome":"interrupted"')
    } finally {
      await gw.close()
      upstream.close()
    }
  })
})

describe('operations', () => {
  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${stack.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', issuers: [{ id: 'ci', state: 'ready' }] })
    const metrics = await (await fetch(`${stack.url}/metrics`)).text()
    expect(metrics).toMatch(/skillgate_requests_total\{endpoint="messages",status="200",decision="allow"\} \d+/)
    expect(metrics).toMatch(/skillgate_requests_total\{endpoint="messages",status="401",decision="none"\} \d+/)
    expect(metrics).toMatch(/skillgate_requests_total\{endpoint="messages",status="403",decision="deny"\} \d+/)
    expect(metrics).toContain('skillgate_request_duration_seconds_bucket')
    expect(metrics).toContain('skillgate_upstream_first_byte_seconds_bucket')
    expect((await fetch(`${stack.url}/nope`)).status).toBe(404)
  })

  it('never logs a token or the upstream key, and tags every line with the request id', async () => {
    const token = await stack.mint()
    await post('/v1/messages', messageBody(), { authorization: `Bearer ${token}` })
    await post('/v1/messages', messageBody(), { authorization: 'Bearer garbage.token.value' })
    const all = stack.logs.join('')
    expect(all).not.toContain(token.split('.')[2]!)
    expect(all).not.toContain(stack.mock.apiKey)
    expect(all).not.toContain('garbage.token.value')
    const requestLines = stack.logs.map((l) => JSON.parse(l) as { msg: string; reqId?: string }).filter((l) => l.msg === 'request')
    expect(requestLines.length).toBeGreaterThan(0)
    for (const line of requestLines) expect(line.reqId).toMatch(/^[0-9A-Z]{26}$/)
  })

  it('picks up a rotated upstream key from its file without a restart', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'skillgate-key-')), 'anthropic-key')
    writeFileSync(keyFile, 'sk-ant-old-revoked-key\n')
    const gw = await startStack({ configure: (c) => ((c.upstream as Record<string, unknown>).apiKey = { fromFile: keyFile }) })
    try {
      const call = async () =>
        (await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': await gw.mint(), 'anthropic-version': '2023-06-01' } })).status
      expect(await call(), 'the upstream refuses the old key and its 401 passes through').toBe(401)
      writeFileSync(keyFile, `${gw.mock.apiKey}\n`)
      await expect.poll(call, { timeout: 10_000 }).toBe(200)
    } finally {
      await gw.close()
    }
  })

  it('lets a stream in flight finish during a graceful shutdown, and refuses new connections', async () => {
    const gw = await startStack({ mock: { frameDelayMs: 40 } })
    const token = await gw.mint()
    const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' } })
    const closing = gw.gateway.close(10_000)
    const text = await res.text()
    expect(text).toContain('event: message_stop')
    await closing
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow()
    await gw.mock.close()
  })
})
