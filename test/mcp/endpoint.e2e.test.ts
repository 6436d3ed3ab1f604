import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MOCK_PII } from '../../src/mock-upstream/index.js'
import { ISSUER, startStack, type Stack } from '../e2e/harness.js'
import { startUpstreamFixture, UPSTREAM_BEARER, type UpstreamFixture } from './upstream-fixture.js'

/**
 * `/mcp/{id}` end to end (issue #19 items 1–6) with the official MCP SDK on both sides: the client
 * lists only granted tools, calls one (result masked), is refused others with a clear −32001, waits
 * for an approval bound to the arguments; the upstream server only ever sees the gateway's credential.
 */
const APPROVER_TOKEN = 'approver-token-for-mcp-tests-0123456789'
let stack: Stack
let upstream: UpstreamFixture
let token: string

beforeAll(async () => {
  upstream = await startUpstreamFixture()
  stack = await startStack({
    configure: (config) => {
      config.mcpServers = [
        { id: 'tickets', url: upstream.url, auth: { bearer: { value: UPSTREAM_BEARER } }, limits: { maxMessage: '64KiB' } },
        { id: 'flood', url: upstream.floodUrl, limits: { maxResponse: '256KiB', timeout: '5s' } },
        { id: 'slow', url: upstream.floodUrl, limits: { maxResponse: '1GiB', timeout: '1s' } },
      ]
      const rule = (config.rules as Array<Record<string, unknown>>)[0]!
      ;(rule.allow as Record<string, unknown>).mcp = {
        tickets: { tools: ['echo', 'deploy', 'fail'], condition: 'tool != "echo" || !("text" in arguments) || arguments.text != "forbidden"' },
        flood: { tools: ['*'] },
        slow: { tools: ['*'] },
      }
      rule.approval = { mcpTools: ['tickets/deploy'], hold: '20s', grantTtl: '10m' }
      rule.masking = ['default']
      config.masking = { profiles: { default: { detectors: ['email'] } }, requests: { block: ['aws-access-key'] } }
      config.admin = { tokens: [{ secret: { value: APPROVER_TOKEN }, roles: ['approver'] }] }
    },
  })
  token = await stack.mint({}, { expiresIn: 900 })
})
afterAll(async () => {
  await stack?.close()
  await upstream?.close()
})

async function connect(server = 'tickets', bearer = token): Promise<Client> {
  const client = new Client({ name: 'test', version: '1' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp/${server}`), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }))
  return client
}

async function refusal(promise: Promise<unknown>): Promise<McpError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(McpError)
  return error as McpError
}

const post = (server: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}/mcp/${server}`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
  })

describe('MCP endpoint through the official SDK', () => {
  it('lists only the granted tools', async () => {
    const client = await connect()
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual(['deploy', 'echo', 'fail'])
    await client.close()
  })

  it('calls a granted tool and masks its result (text and structuredContent)', async () => {
    const client = await connect()
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } })
    expect(result.content).toEqual([{ type: 'text', text: 'echo: hello; contact [REDACTED:email]' }])
    expect(result.structuredContent).toEqual({ echoed: 'hello', owner: { email: '[REDACTED:email]' } })
    expect(JSON.stringify(result)).not.toContain(MOCK_PII.email)
    await client.close()
  })

  it('refuses an ungranted tool with −32001 naming the rule, and never forwards it', async () => {
    const client = await connect()
    const error = await refusal(client.callTool({ name: 'drop_database', arguments: {} }))
    expect(error.code).toBe(-32001)
    expect(error.message).toBe('MCP error -32001: tool drop_database on MCP server tickets is not granted by rule ci-app (allow.mcp.tickets.tools)')
    expect(upstream.calls.some((c) => c.name === 'drop_database')).toBe(false)
    await client.close()
  })

  it('passes an upstream JSON-RPC error through with its code, its text masked', async () => {
    const client = await connect()
    const error = await refusal(client.callTool({ name: 'fail', arguments: {} }))
    expect(error.code).toBe(-32050)
    expect(error.message).toBe('MCP error -32050: no ticket for [REDACTED:email]')
    await client.close()
  })

  it('refuses a call whose CEL condition is false for its arguments', async () => {
    const client = await connect()
    const error = await refusal(client.callTool({ name: 'echo', arguments: { text: 'forbidden' } }))
    expect(error.code).toBe(-32001)
    expect(error.message).toContain('refused by rule ci-app: its condition is false')
    expect(upstream.calls.some((c) => c.arguments.text === 'forbidden')).toBe(false)
    await client.close()
  })

  it('refuses arguments carrying a blocked secret, naming the detector and not the value', async () => {
    const client = await connect()
    const error = await refusal(client.callTool({ name: 'echo', arguments: { text: `key ${MOCK_PII.awsKey}` } }))
    expect(error.code).toBe(-32001)
    expect(error.message).toContain('aws-access-key at arguments.text')
    expect(error.message).not.toContain(MOCK_PII.awsKey)
    expect(upstream.calls.some((c) => String(c.arguments.text).includes(MOCK_PII.awsKey))).toBe(false)
    await client.close()
  })

  it('holds a call needing approval until an approver approves it; the grant is bound to the arguments', async () => {
    const client = await connect()
    const held = client.callTool({ name: 'deploy', arguments: { env: 'prod' } }, undefined, { timeout: 30_000 })
    const review = await pendingReview()
    expect(review.rule).toBe('ci-app#mcp')
    expect(review.summary.tools).toEqual(['mcp__tickets__deploy'])
    expect(upstream.calls.some((c) => c.name === 'deploy')).toBe(false)
    await decide(review.id, 'approve')
    const result = await held
    expect(result.content).toEqual([{ type: 'text', text: 'deploy done with {"env":"prod"}' }])
    // The same call again passes on the grant, with no new review.
    const again = await client.callTool({ name: 'deploy', arguments: { env: 'prod' } })
    expect(again.isError).toBeFalsy()
    // Another argument is another review: denied here, so the call is refused and never forwarded.
    const other = client.callTool({ name: 'deploy', arguments: { env: 'staging' } }, undefined, { timeout: 30_000 })
    const second = await pendingReview()
    expect(second.id).not.toBe(review.id)
    await decide(second.id, 'deny')
    const error = await refusal(other)
    expect(error.code).toBe(-32001)
    expect(error.message).toContain(`review ${second.id} was denied`)
    expect(upstream.calls.filter((c) => c.name === 'deploy').map((c) => c.arguments.env)).toEqual(['prod', 'prod'])
    await client.close()
  }, 40_000)

  it('bounds a server that streams forever: byte cap and deadline, each a clear error', async () => {
    const flood = new Client({ name: 'test', version: '1' })
    const capped = await refusal(flood.connect(new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp/flood`), { requestInit: { headers: { authorization: `Bearer ${token}` } } })).then(() => flood.listTools()))
    expect(capped.message).toContain('the MCP server sent more than 262144 bytes')
    const slow = new Client({ name: 'test', version: '1' })
    const started = Date.now()
    const timedOut = await refusal(slow.connect(new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp/slow`), { requestInit: { headers: { authorization: `Bearer ${token}` } } })).then(() => slow.listTools()))
    expect(timedOut.message).toContain('did not answer within 1000 ms')
    expect(Date.now() - started).toBeLessThan(10_000)
  }, 20_000)

  it('the upstream server only ever saw the gateway credential, never the client token', () => {
    expect(upstream.authorizations.length).toBeGreaterThan(0)
    for (const seen of upstream.authorizations) expect(seen).toBe(`Bearer ${UPSTREAM_BEARER}`)
    expect(upstream.authorizations.join('\n')).not.toContain(token)
  })

  it('records one audit record per tool call, refused ones included, with arguments and results masked', async () => {
    const { records } = await stack.gateway.audit.storage.audit.list({ limit: 100 })
    const calls = records.filter((r) => r.endpoint === 'mcp.tools.call')
    const echo = calls.find((r) => r.decision === 'allow' && r.tools[0] === 'mcp__tickets__echo')
    expect(echo).toMatchObject({ principal: 'ci:1234567/42', rule: 'ci-app', outcome: 'completed', status: 200 })
    expect(JSON.stringify(echo?.response)).toContain('[REDACTED:email]')
    expect(JSON.stringify(echo?.response)).not.toContain(MOCK_PII.email)
    const denied = calls.find((r) => r.tools[0] === 'mcp__tickets__drop_database')
    expect(denied).toMatchObject({ decision: 'deny', outcome: 'denied' })
    expect(JSON.stringify(calls)).not.toContain(MOCK_PII.awsKey)
  })
})

describe('MCP endpoint bad input', () => {
  it('no token: 401 pointing at the protected resource metadata, which names the issuers', async () => {
    const response = await fetch(`${stack.url}/mcp/tickets`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    expect(response.status).toBe(401)
    const challenge = response.headers.get('www-authenticate') ?? ''
    expect(challenge).toBe(`Bearer resource_metadata="${stack.url}/.well-known/oauth-protected-resource/mcp/tickets"`)
    const metadata = await fetch(`${stack.url}/.well-known/oauth-protected-resource/mcp/tickets`)
    expect(metadata.status).toBe(200)
    expect(await metadata.json()).toMatchObject({ resource: `${stack.url}/mcp/tickets`, authorization_servers: [ISSUER] })
  })

  it('a bad token: 401 with invalid_token and the metadata', async () => {
    const response = await post('tickets', '{}', { authorization: 'Bearer not-a-jwt' })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('resource_metadata=')
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('unknown server: 404', async () => {
    expect((await post('nope', '{}')).status).toBe(404)
  })

  it('malformed JSON: −32700; a non-JSON-RPC message: a JSON-RPC error', async () => {
    const broken = await post('tickets', '{"jsonrpc": "2.0", ')
    expect(broken.status).toBe(400)
    expect(await broken.json()).toMatchObject({ error: { code: -32700 } })
    const invalid = await post('tickets', '{"hello":"world"}')
    expect(invalid.status).toBe(400)
    const body = (await invalid.json()) as { error: { code: number } }
    expect([-32700, -32600]).toContain(body.error.code)
  })

  it('an oversized message: 413, nothing forwarded', async () => {
    const before = upstream.calls.length
    const text = 'x'.repeat(70 * 1024)
    const response = await post('tickets', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text } } }))
    expect(response.status).toBe(413)
    expect(upstream.calls.length).toBe(before)
  })

  it('a batch mixing granted and ungranted calls: each ungranted refused, only the granted forwarded', async () => {
    const before = upstream.calls.length
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'batched' } } },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'drop_database', arguments: {} } },
    ]
    const response = await post('tickets', JSON.stringify(batch), { 'mcp-protocol-version': '2025-03-26' })
    const text = await response.text()
    const answers = parseAnswers(text)
    const byId = new Map(answers.map((a) => [a.id, a]))
    expect(byId.get(2)?.error).toEqual({ code: -32001, message: 'tool drop_database on MCP server tickets is not granted by rule ci-app (allow.mcp.tickets.tools)' })
    expect(byId.get(1)?.result).toBeDefined()
    expect(upstream.calls.slice(before).map((c) => c.name)).toEqual(['echo'])
  })
})

interface JsonRpcAnswer {
  id: number
  result?: unknown
  error?: { code: number; message: string }
}

function parseAnswers(text: string): JsonRpcAnswer[] {
  const parsed = JSON.parse(text) as JsonRpcAnswer | JsonRpcAnswer[]
  return Array.isArray(parsed) ? parsed : [parsed]
}

interface ReviewJson {
  id: string
  rule: string
  state: string
  summary: { tools: string[] }
}

const seen = new Set<string>()
async function pendingReview(): Promise<ReviewJson> {
  for (let i = 0; i < 200; i++) {
    const response = await fetch(`${stack.url}/admin/api/reviews?state=pending`, { headers: { authorization: `Bearer ${APPROVER_TOKEN}` } })
    const { reviews } = (await response.json()) as { reviews: ReviewJson[] }
    const fresh = reviews.find((r) => !seen.has(r.id))
    if (fresh) {
      seen.add(fresh.id)
      return fresh
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('no pending review appeared')
}

async function decide(id: string, action: 'approve' | 'deny'): Promise<void> {
  const response = await fetch(`${stack.url}/admin/api/reviews/${id}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${APPROVER_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'test' }),
  })
  expect(response.status).toBe(200)
}
