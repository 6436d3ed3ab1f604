import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { GatewayError } from '../errors/gateway-error.js'
import { createUpstreamClient, type UpstreamClient } from './client.js'

let server: Server | undefined
let client: UpstreamClient | undefined

afterEach(async () => {
  await client?.close()
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  server = client = undefined
})

async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<UpstreamClient> {
  server = createServer(handler)
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  client = createUpstreamClient({ origin: `http://127.0.0.1:${port}`, connections: 4, connectTimeoutMs: 1_000, firstByteTimeoutMs: 2_000, idleTimeoutMs: 2_000 })
  return client
}

const call = (c: UpstreamClient, signal = new AbortController().signal) => c.send({ method: 'POST', path: '/v1/messages?x=1', headers: ['content-type', 'application/json'], body: Buffer.from('{}'), signal })

async function readAll(body: AsyncIterable<Uint8Array>, pause = 0): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of body) {
    parts.push(chunk)
    if (pause) await new Promise((r) => setTimeout(r, pause))
  }
  return Buffer.concat(parts)
}

describe('upstream client (undici dispatch, body as an async iterator)', () => {
  it('answers status, lower-cased headers and every body byte, the request sent as given', async () => {
    let seen = ''
    const c = await upstream((req, res) => {
      seen = `${req.method} ${req.url} ${req.headers['content-type']}`
      res.writeHead(201, { 'Content-Type': 'text/event-stream', 'Request-Id': 'req_1' })
      res.write('event: a\n')
      setTimeout(() => res.end('data: {}\n\n'), 20)
    })
    const answer = await call(c)
    expect(answer.status).toBe(201)
    expect(answer.headers['content-type']).toBe('text/event-stream')
    expect(answer.headers['request-id']).toBe('req_1')
    expect((await readAll(answer.body)).toString()).toBe('event: a\ndata: {}\n\n')
    expect(seen).toBe('POST /v1/messages?x=1 application/json')
  })

  it('pauses the upstream past 64 KiB unread and still delivers every byte in order', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = i % 251
    const c = await upstream((_req, res) => res.end(big))
    const answer = await call(c)
    const got = await readAll(answer.body, 1)
    expect(got.equals(big)).toBe(true)
  })

  it('abandons the call when the reader stops early', async () => {
    let closed: Promise<void> | undefined
    const c = await upstream((_req, res) => {
      closed = new Promise((resolve) => res.on('close', resolve))
      res.write('first')
    })
    const answer = await call(c)
    for await (const chunk of answer.body) {
      expect(Buffer.from(chunk).toString()).toBe('first')
      break
    }
    await closed
  })

  it('aborts with the signal before the headers and while the body streams', async () => {
    const c = await upstream((_req, res) => {
      res.writeHead(200)
      res.write('x')
    })
    const before = new AbortController()
    before.abort()
    // As with pool.request: the signal's reason, mapped like any transport failure (the client is gone).
    await expect(call(c, before.signal)).rejects.toMatchObject({ name: 'GatewayError', cause: { name: 'AbortError' } })
    const during = new AbortController()
    const answer = await call(c, during.signal)
    const iterator = answer.body[Symbol.asyncIterator]()
    await iterator.next()
    const pending = iterator.next()
    during.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('maps transport failures to gateway errors: refused before the headers, a reset mid-body', async () => {
    const c = await upstream((_req, res) => {
      res.writeHead(200)
      res.write('x')
      setTimeout(() => res.socket?.destroy(), 10)
    })
    const answer = await call(c)
    await expect(readAll(answer.body)).rejects.toBeDefined()
    const closed = createUpstreamClient({ origin: 'http://127.0.0.1:1', connections: 1, connectTimeoutMs: 500, firstByteTimeoutMs: 500, idleTimeoutMs: 500 })
    try {
      const refused = await call(closed).catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(GatewayError)
      expect((refused as GatewayError).code).toBe('GW_UPSTREAM_UNREACHABLE')
    } finally {
      await closed.close()
    }
  })
})
