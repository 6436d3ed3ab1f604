/**
 * Issue #12 item 6 against a running gateway with short configured limits: a client that sends its
 * headers or its body slowly, opens too many connections, or keeps failing authentication is cut
 * off; X-Forwarded-For names the client only behind a trusted proxy. Each case failed before.
 */
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from './harness.js'

let stack: Stack
let token: string
beforeAll(async () => {
  stack = await startStack({
    configure: (c) => {
      c.listen = { host: '127.0.0.1', port: 0, drainTimeout: '5s', headersTimeout: '300ms', requestTimeout: '3s', bodyTimeout: '300ms', maxConnections: 4, unauthenticatedPerMinute: 1000 }
    },
  })
  token = await stack.mint()
})
afterAll(async () => {
  await stack?.close()
})

const portOf = (url: string) => Number(new URL(url).port)

/**
 * One request on its own connection (`agent: false` closes it after the answer), with the path sent
 * exactly as given (fetch would normalise dot segments away).
 */
function send(url: string, method: string, path: string, headers: Record<string, string> = {}, body = ''): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: portOf(url), method, path, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A raw connection: what it received, and a promise settled when the server closed it. */
function open(url = stack.url): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const socket = connect(portOf(url), '127.0.0.1')
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('error', () => undefined)
    const closed = new Promise<number>((done) => socket.on('close', () => done(performance.now() - started)))
    socket.once('connect', () => resolve({ socket, received: () => text, closed }))
    socket.once('error', reject)
  })
}

/** Writes `lines` one every `everyMs` until the socket closes (the slow client). */
function drip(socket: Socket, lines: string[], everyMs: number): void {
  let i = 0
  const timer = setInterval(() => {
    if (socket.destroyed || i >= lines.length) return clearInterval(timer)
    socket.write(lines[i++] ?? '')
  }, everyMs)
  socket.once('close', () => clearInterval(timer))
}

async function metric(name: string, url = stack.url): Promise<number> {
  const { text } = await send(url, 'GET', '/metrics')
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0)
}

describe('slow clients', () => {
  it('cuts a client that sends one header line at a time (408 within headersTimeout)', async () => {
    const { socket, received, closed } = await open()
    socket.write('POST /v1/messages HTTP/1.1\r\nhost: gw\r\n')
    drip(socket, Array.from({ length: 100 }, (_, i) => `x-slow-${i}: 1\r\n`), 100)
    const ms = await closed
    expect(received()).toMatch(/^HTTP\/1\.1 408 /)
    expect(received()).toContain('the request was not received in time')
    // 300 ms of headersTimeout, checked every 75 ms; 10 s of dripping would still be going.
    expect(ms).toBeLessThan(2_000)
  })

  it('closes a connection that never sends a byte', async () => {
    const { closed } = await open()
    expect(await closed).toBeLessThan(2_000)
  })

  it('ends a /v1 body that stops arriving with 408 and closes the connection', async () => {
    stack.mock.reset()
    const { socket, received, closed } = await open()
    socket.write(`POST /v1/messages HTTP/1.1\r\nhost: gw\r\nx-api-key: ${token}\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{"model":`)
    const ms = await closed
    expect(received()).toMatch(/^HTTP\/1\.1 408 /)
    expect(received()).toContain('the request body stopped arriving')
    expect(ms).toBeLessThan(2_000)
    expect(stack.mock.requests).toHaveLength(0)
  })

  it('ends a body that trickles in slower than the whole request may take (requestTimeout)', async () => {
    const { socket, closed } = await open()
    socket.write(`POST /v1/messages HTTP/1.1\r\nhost: gw\r\nx-api-key: ${token}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n`)
    // One byte every 100 ms always beats bodyTimeout (300 ms); only the 3 s request bound ends it.
    drip(socket, Array.from({ length: 1000 }, () => ' '), 100)
    const ms = await closed
    expect(ms).toBeGreaterThan(2_500)
    expect(ms).toBeLessThan(6_000)
  })
})

describe('connection cap', () => {
  let capped: Stack
  beforeAll(async () => {
    capped = await startStack({ configure: (c) => void (c.listen = { host: '127.0.0.1', port: 0, drainTimeout: '5s', maxConnections: 3 }) })
  })
  afterAll(async () => {
    await capped?.close()
  })

  it('closes connections past listen.maxConnections at once and counts them', async () => {
    const held = await Promise.all([open(capped.url), open(capped.url), open(capped.url)])
    // Unfinished requests: the three stay open, busy.
    for (const { socket } of held) socket.write('GET /healthz HTTP/1.1\r\nhost: gw\r\n')
    const extra = await open(capped.url)
    extra.socket.write('GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\n')
    await extra.closed
    expect(extra.received()).toBe('')
    for (const { socket } of held) socket.destroy()
    await Promise.all(held.map((h) => h.closed))
    await until(async () => (await send(capped.url, 'GET', '/healthz').catch(() => ({ status: 0 }))).status === 200)
    expect(await metric('skillgate_connections_dropped_total', capped.url)).toBeGreaterThanOrEqual(1)
  })
})

/** Polls `check` (the server notices closed sockets a tick after the client does). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error('condition not reached')
}

describe('canonical /v1 paths', () => {
  it.each([
    '/v1/messages/batches/',
    '/v1/messages/',
    '/v1//messages',
    '/v1/messages/%62atches',
    '/v1/%6Dessages',
    '/v1/messages/batches%2F',
    '/v1/./messages',
    '/v1/',
  ])('POST %s → 400 before classification, nothing forwarded', async (path) => {
    stack.mock.reset()
    const body = JSON.stringify({ requests: [{ custom_id: 'a', params: { model: 'gpt-4', max_tokens: 1, messages: [] } }] })
    const res = await send(stack.url, 'POST', path, { 'x-api-key': token, 'content-type': 'application/json' }, body)
    expect(res.status).toBe(400)
    expect((JSON.parse(res.text) as { error: { message: string } }).error.message).toContain('canonical')
    expect(stack.mock.requests).toHaveLength(0)
  })
})
