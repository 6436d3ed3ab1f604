/**
 * The official SDK (1.14) federates against the exchange handler with no client code: only the
 * environment of anthropic-api.md §12.1 (`ANTHROPIC_FEDERATION_RULE_ID`, `ANTHROPIC_ORGANIZATION_ID`,
 * `ANTHROPIC_IDENTITY_TOKEN_FILE`). A tiny node:http server mounts the handler at `/v1/oauth/token`
 * and a `/v1/messages` that accepts only a valid gateway token, proving the wire format end to end.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MAX_EXCHANGE_BODY_BYTES } from '../../src/exchange/index.js'
import { ORG, startExchangeStack, type ExchangeStack } from './helpers.js'

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

interface TestServer {
  readonly url: string
  readonly seen: Seen[]
  /** Answer the next N message calls with 401 (a revoked gateway token). */
  reject401: number
  close(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_EXCHANGE_BODY_BYTES + 1) break
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

async function startServer(stack: ExchangeStack): Promise<TestServer> {
  const state = { seen: [] as Seen[], reject401: 0 }
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      state.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString('utf8') })
      if (req.method === 'POST' && req.url === '/v1/oauth/token') {
        const reply = await stack.handler({ contentType: req.headers['content-type'], body, headers: req.headers })
        res.writeHead(reply.status, reply.headers).end(reply.body)
        return
      }
      if (req.method === 'POST' && req.url === '/v1/messages') {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
        const claims = bearer === undefined ? undefined : await stack.tokens.verify(bearer).catch(() => undefined)
        if (claims === undefined || state.reject401 > 0) {
          state.reject401 = Math.max(0, state.reject401 - 1)
          res.writeHead(401, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid token' } }))
          return
        }
        res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_test' })
        res.end(JSON.stringify({
          id: 'msg_test', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5',
          content: [{ type: 'text', text: `hello ${claims.sub} via ${claims.rule}` }],
          stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 3 },
        }))
        return
      }
      res.writeHead(404).end()
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen: state.seen,
    get reject401() {
      return state.reject401
    },
    set reject401(n: number) {
      state.reject401 = n
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

let dir: string
let stack: ExchangeStack
let server: TestServer
let tokenFile: string

async function setUp(singleUse: boolean, ruleId = 'release-notes'): Promise<void> {
  stack = await startExchangeStack({ singleUse })
  server = await startServer(stack)
  await writeFile(tokenFile, `${stack.mint()}\n`)
  // Only environment, exactly as a CI job would set it; no key variables, no profile.
  vi.stubEnv('ANTHROPIC_API_KEY', '')
  vi.stubEnv('ANTHROPIC_AUTH_TOKEN', '')
  vi.stubEnv('ANTHROPIC_PROFILE', '')
  vi.stubEnv('ANTHROPIC_CONFIG_DIR', dir)
  vi.stubEnv('ANTHROPIC_BASE_URL', server.url)
  vi.stubEnv('ANTHROPIC_FEDERATION_RULE_ID', ruleId)
  vi.stubEnv('ANTHROPIC_ORGANIZATION_ID', ORG)
  vi.stubEnv('ANTHROPIC_IDENTITY_TOKEN_FILE', tokenFile)
}

const ask = (client: Anthropic) =>
  client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skillgate-sdk-'))
  tokenFile = join(dir, 'identity-token')
})

afterEach(async () => {
  vi.unstubAllEnvs()
  await server?.close()
  await stack?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('official SDK 1.14 federating through the exchange handler', () => {
  it('exchanges the identity token file and calls the API with the gateway token', async () => {
    await setUp(false)
    const client = new Anthropic({ maxRetries: 0 })
    const message = await ask(client)
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'hello gha:162148032/797215326 via release-notes' })

    const [exchange, call] = server.seen
    expect(exchange).toMatchObject({ method: 'POST', url: '/v1/oauth/token' })
    expect(exchange?.headers['content-type']).toMatch(/^application\/json/)
    expect(exchange?.headers['anthropic-beta']).toBe('oauth-2025-04-20,oidc-federation-2026-04-01')
    expect(exchange?.headers.authorization).toBeUndefined()
    expect(exchange?.headers['x-api-key']).toBeUndefined()
    expect(JSON.parse(exchange?.body ?? '{}')).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', federation_rule_id: 'release-notes', organization_id: ORG,
    })
    expect(call).toMatchObject({ method: 'POST', url: '/v1/messages' })
    expect(call?.headers.authorization).toMatch(/^Bearer ey/)
    expect(stack.events.map((event) => event.type)).toEqual(['exchange.succeeded'])

    // The token is cached (300 s ≫ the SDK's 120 s refresh threshold): no second exchange.
    await ask(client)
    expect(server.seen.filter((seen) => seen.url === '/v1/oauth/token')).toHaveLength(1)
  })

  it('after a 401 the SDK re-exchanges once; with singleUse off the unchanged assertion is accepted', async () => {
    await setUp(false)
    // The SDK's 401 re-exchange rides on its retry budget: one retry is enough.
    const client = new Anthropic({ maxRetries: 1 })
    server.reject401 = 1
    await expect(ask(client)).resolves.toMatchObject({ type: 'message' })
    expect(server.seen.map((seen) => seen.url)).toEqual(['/v1/oauth/token', '/v1/messages', '/v1/oauth/token', '/v1/messages'])
  })

  it('with singleUse on, the re-exchange needs a rotated token file (a new jti)', async () => {
    await setUp(true)
    const client = new Anthropic({ maxRetries: 1 })
    await ask(client)
    server.reject401 = 1
    await expect(ask(client)).rejects.toThrow(/invalid_grant/)
    expect(stack.events.at(-1)).toMatchObject({ type: 'exchange.failed', reason: 'replay' })
    // The SDK re-reads the file on every exchange: once the CI system rotated it, the next call works.
    await writeFile(tokenFile, stack.mint())
    await expect(ask(client)).resolves.toMatchObject({ type: 'message' })
    expect(stack.events.at(-1)).toMatchObject({ type: 'exchange.succeeded' })
  })

  it('surfaces the RFC 6749 §5.2 error body for a rule that does not match', async () => {
    await setUp(false, 'nightly-saml')
    const client = new Anthropic({ maxRetries: 0 })
    const err = await ask(client).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect(String((err as Error).message)).toMatch(/status 400.*invalid_grant/s)
    expect(server.seen.filter((seen) => seen.url === '/v1/messages')).toHaveLength(0)
  })
})
