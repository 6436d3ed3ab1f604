import { connect } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageBody, startStack, type Stack } from '../e2e/harness.js'
import { API_HEADERS, expectGatewayError, fuzzSeed, isAnthropicError, rawRequest, type RawResponse } from './helpers.js'

/**
 * Reliability fuzzing of the request path against a running gateway (docs/reliability.md,
 * "fuzzing"): random methods, paths, headers and bodies, with and without valid credentials. Every
 * response is either the upstream's (forwarded: it carries the mock's `request-id`) or the
 * gateway's own error in Anthropic's shape; the gateway never answers 500, never forwards without
 * an audit record, and stays healthy. A second property sends mutated raw HTTP bytes.
 */
let stack: Stack
let token: string
let otherToken: string

beforeAll(async () => {
  stack = await startStack({
    mock: { maxRecordedRequests: 10_000 },
    configure: (c) => {
      c.masking = { profiles: { default: { detectors: ['email', 'credit-card'] } }, requests: { block: ['aws-access-key'] } }
      ;(c.rules as Record<string, unknown>[])[0] = { ...(c.rules as Record<string, unknown>[])[0], masking: ['default'] }
    },
  })
  token = await stack.mint({}, { expiresIn: 900 })
  otherToken = await stack.mint({ repository_owner_id: '999' }, { expiresIn: 900 })
})
afterAll(async () => {
  await stack?.close()
})

const segment = fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/)
const path = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('/v1/messages', '/v1/messages/count_tokens', '/v1/models', '/v1/models/claude-sonnet-4-6', '/v1/files', '/v1/messages/batches', '/v1/skills', '/v1/complete', '/v1/oauth/token') },
  { weight: 3, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/v1/${s.join('/')}`) },
  { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`) },
  { weight: 1, arbitrary: segment.map((s) => `/admin/api/${s}`) },
)
const query = fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._-]{0,24}$/).map((q) => `?${q}`), { nil: '' })
const method = fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS')
const credential = fc.constantFrom('none', 'x-api-key', 'bearer', 'both-same', 'both-different', 'garbage', 'other-tenant', 'basic')
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((n) => !['host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive', 'authorization', 'x-api-key'].includes(n) && !n.startsWith('mock-') && !n.startsWith('proxy-'))
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((v) => v.trim())
const models = ['claude-sonnet-4-6', 'claude-haiku-4-5', 'gpt-4', 'mock-error-429', 'mock-error-500', 'mock-error-529', '', 'claude-*']
const messagesBody = fc
  .record({
    model: fc.constantFrom(...models),
    max_tokens: fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.constant('8')),
    stream: fc.boolean(),
    content: fc.oneof(fc.string({ maxLength: 60 }), fc.constant('key AKIAIOSFODNN7EXAMPLE'), fc.constant('MOCK:PII')),
    extra: fc.dictionary(fc.stringMatching(/^[a-z_]{1,10}$/), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  })
  .map(({ model, max_tokens, stream, content, extra }) => JSON.stringify({ ...extra, model, max_tokens, stream, messages: [{ role: 'user', content }] }))
const body = fc.oneof(
  { weight: 3, arbitrary: messagesBody },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
)
const request = fc.record({
  method,
  path,
  query,
  credential,
  contentType: fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-8', undefined),
  version: fc.option(fc.constantFrom('2023-06-01', '2026-10-21', 'nonsense'), { nil: undefined }),
  extra: fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
  body,
})
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never

/**
 * One request per status the run must show (200, 400, 401, 403, 404), always tried first: the
 * check below that the fuzz got past authentication and policy then holds for every seed.
 */
const plain = { query: '', contentType: 'application/json', version: '2023-06-01', extra: {} } as const
const chat = (model: string, content: string) => JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content }] })
const statusExamples: [FuzzRequest][] = [
  [{ ...plain, method: 'POST', path: '/v1/messages', credential: 'bearer', body: chat('claude-sonnet-4-6', 'hello') }],
  [{ ...plain, method: 'POST', path: '/v1/messages', credential: 'bearer', body: '{"model":' }],
  [{ ...plain, method: 'POST', path: '/v1/messages', credential: 'none', body: chat('claude-sonnet-4-6', 'hello') }],
  [{ ...plain, method: 'POST', path: '/v1/messages', credential: 'bearer', body: chat('gpt-4', 'hello') }],
  [{ ...plain, method: 'GET', path: '/nowhere', credential: 'none', body: undefined }],
]

function headersFor(r: FuzzRequest): Record<string, string> {
  const h: Record<string, string> = { ...r.extra }
  if (r.contentType) h['content-type'] = r.contentType
  if (r.version) h['anthropic-version'] = r.version
  switch (r.credential) {
    case 'x-api-key': h['x-api-key'] = token; break
    case 'bearer': h.authorization = `Bearer ${token}`; break
    case 'both-same': h.authorization = `Bearer ${token}`; h['x-api-key'] = token; break
    case 'both-different': h.authorization = `Bearer ${token}`; h['x-api-key'] = otherToken; break
    case 'garbage': h['x-api-key'] = 'eyJhbGciOiJub25lIn0.e30.'; break
    case 'other-tenant': h['x-api-key'] = otherToken; break
    case 'basic': h.authorization = 'Basic dXNlcjpwYXNz'; break
  }
  return h
}

const internalErrors: string[] = []
/** Statuses seen, to show the fuzz went past authentication and policy. */
const statuses = new Map<number, number>()

/** The invariant of one response. */
function check(r: FuzzRequest, res: RawResponse & { error?: string }): void {
  const label = `${r.method} ${r.path}${r.query} (${r.credential}) -> ${res.status} ${res.body.slice(0, 200)}`
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
  expect(res.status, label).toBeGreaterThanOrEqual(200)
  expect(res.status, label).toBeLessThan(600)
  const forwarded = typeof res.headers['request-id'] === 'string' && res.headers['request-id'].startsWith('req_')
  expect(res.headers['skillgate-request-id'] ?? res.headers['content-type'], label).toBeDefined()
  // No secret leaves: neither the client's token nor the upstream key, in any body or header.
  const everything = `${JSON.stringify(res.headers)}${res.body}`
  for (const secret of [token.split('.')[2] ?? token, otherToken.split('.')[2] ?? otherToken, stack.mock.apiKey]) expect(everything.includes(secret), `${label} leaks a secret`).toBe(false)
  if (forwarded) return // the upstream's answer, relayed (masked where a profile applies)
  if (r.method === 'HEAD') return // no body to check
  if (r.path === '/v1/oauth/token' && r.method === 'POST') {
    // The exchange endpoint answers OAuth errors (RFC 6749 §5.2), which the SDKs expect there.
    const parsed = JSON.parse(res.body) as { error?: unknown }
    expect(typeof parsed.error === 'string' || isAnthropicError(parsed), label).toBe(true)
    return
  }
  expect(res.error, label).toBeUndefined()
  expectGatewayError(res)
  if (res.status >= 500) internalErrors.push(label)
}

describe('request path (fast-check against a running gateway)', () => {
  it('every response is forwarded or an Anthropic-shaped gateway error; no 5xx of its own; nothing forwarded unaudited', async () => {
    stack.mock.reset()
    const since = new Date(Date.now() - 1_000)
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const payload = r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body
        // A valid HTTP request: a body is always framed (node would send DELETE/OPTIONS bodies unframed).
        const headers = { ...headersFor(r), ...(payload !== undefined ? { 'content-length': String(Buffer.byteLength(payload)) } : {}) }
        const res = await rawRequest(`${stack.url}${r.path}${r.query}`, { method: r.method, headers, ...(payload !== undefined ? { body: payload } : {}), timeoutMs: 10_000 })
        check(r, res)
      }),
      { numRuns: 500, ...fuzzSeed, examples: statusExamples },
    )
    expect(internalErrors, 'the gateway answered 5xx itself').toEqual([])
    for (const status of [200, 400, 401, 403, 404]) expect(statuses.get(status), `status ${status} seen: ${JSON.stringify([...statuses])}`).toBeGreaterThan(0)
    // Nothing forwarded unaudited: each upstream call has an allow record.
    let allowed = 0
    for await (const record of stack.gateway.audit.storage.audit.iterate({ from: since, decision: 'allow' })) if (record.outcome !== 'denied') allowed++
    const forwarded = stack.mock.requests.filter((q) => q.path !== '/v1/oauth/token').length
    expect(allowed).toBeGreaterThanOrEqual(forwarded)
    expect(forwarded, 'the fuzz reached the upstream').toBeGreaterThan(10)
    expect((await stack.gateway.audit.storage.audit.verify()).ok).toBe(true)
    const logs = stack.logs.join('')
    for (const secret of [token.split('.')[2] ?? token, otherToken.split('.')[2] ?? otherToken, stack.mock.apiKey]) expect(logs.includes(secret), 'a secret in the logs').toBe(false)
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
    const ok = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { ...API_HEADERS, 'x-api-key': token } })
    expect(ok.status).toBe(200)
  }, 60_000)
})

describe('raw HTTP bytes (fast-check)', () => {
  // Found by the property above: a client that sends a body without framing after a request with
  // `Connection: close` gets the answer to its request, and then a second response (the 400 of the
  // clientError handler for "Data after Connection: close") on the same connection. After a
  // response that said `Connection: close` (or while one is being written) nothing else may follow.
  it('after a response with Connection: close, a parse error of trailing bytes adds no second response', async () => {
    const out = await send(Buffer.from('DELETE /admin/api/ HTTP/1.1\r\nhost: gw\r\nconnection: close\r\ncontent-type: application/json\r\n\r\n{}'))
    const statusLines = out.match(/HTTP\/1\.1 \d{3} /g) ?? []
    expect(statusLines, out).toEqual(['HTTP/1.1 404 '])
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
  })


  const port = () => Number(new URL(stack.url).port)
  const templates = () => [
    `POST /v1/messages HTTP/1.1\r\nhost: gw\r\nx-api-key: ${token}\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\ncontent-length: 79\r\n\r\n{"model":"claude-sonnet-4-6","max_tokens":8,"messages":[{"role":"user","content":"x"}]}`,
    'GET /v1/models HTTP/1.1\r\nhost: gw\r\n\r\n',
    'POST /v1/messages HTTP/1.1\r\nhost: gw\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  ]
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom('\r\n', '\n', ' ', ':', '\u0000', 'content-length: 5\r\n', 'transfer-encoding: chunked\r\n', '\r\n\r\n', 'x'.repeat(300)) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  )

  function send(bytes: Buffer): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(port(), '127.0.0.1')
      let out = ''
      const timer = setTimeout(() => socket.destroy(), 1_500)
      socket.on('data', (d: Buffer) => (out += d.toString('latin1')))
      socket.on('error', () => undefined)
      socket.on('close', () => {
        clearTimeout(timer)
        resolve(out)
      })
      socket.end(bytes)
    })
  }

  it('mutated requests get a response with a status line or a closed connection; refusals are Anthropic-shaped; the gateway stays healthy', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(2), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (which, mutations) => {
        let bytes = Buffer.from(templates()[which] ?? '', 'latin1')
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1)
          if (m.kind === 'flip' && bytes.length > 0) bytes[at % bytes.length] = m.byte
          else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text, 'latin1'), bytes.subarray(at)])
          else if (m.kind === 'cut') bytes = bytes.subarray(0, at)
        }
        const out = await send(bytes)
        if (out === '') return // closed without an answer (e.g. a request cut before its end)
        expect(out, JSON.stringify(bytes.toString('latin1').slice(0, 200))).toMatch(/^HTTP\/1\.1 \d{3} /)
        const status = Number(out.slice(9, 12))
        const [head, ...rest] = out.split('\r\n\r\n')
        const forwarded = /\r\nrequest-id: req_/i.test(head ?? '')
        if (!forwarded && status >= 400 && !/transfer-encoding: chunked/i.test(head ?? '')) {
          const parsed = JSON.parse(rest.join('\r\n\r\n').split('HTTP/1.1 ')[0] ?? '') as unknown
          expect(isAnthropicError(parsed), out.slice(0, 400)).toBe(true)
        }
        expect(status, out.slice(0, 300)).not.toBe(500)
      }),
      { numRuns: 150, ...fuzzSeed },
    )
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
    const ok = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { ...API_HEADERS, 'x-api-key': token } })
    expect(ok.status).toBe(200)
  }, 60_000)
})
