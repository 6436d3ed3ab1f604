import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { clearOfMinuteBoundary, messageBody, startStack, type Stack } from '../e2e/harness.js'
import { startUpstreamFixture, UPSTREAM_BEARER, type UpstreamFixture } from './upstream-fixture.js'

/**
 * `/mcp/{id}` follow-ups of issue #19, end to end with the official SDK client: the `skillgate-rule`
 * header picks one of several matching rules (as on /v1), an MCP-only rule (no allow.endpoints) works
 * at /mcp and allows nothing on /v1, and tool calls count against the rule's `requestsPerMinute`
 * (−32001 naming the limit, audited as a 429).
 */
let stack: Stack
let upstream: UpstreamFixture
/** Matches only ci-app. */
let plain: string
/** Matches ci-app and the MCP-only deployer rule. */
let deployer: string

beforeAll(async () => {
  upstream = await startUpstreamFixture()
  stack = await startStack({
    configure: (config) => {
      config.mcpServers = [{ id: 'tickets', url: upstream.url, auth: { bearer: { value: UPSTREAM_BEARER } } }]
      const rules = config.rules as Array<Record<string, unknown>>
      const app = rules[0]!
      ;(app.allow as Record<string, unknown>).mcp = { tickets: { tools: ['echo'] } }
      rules.push({
        id: 'deployer',
        issuer: 'ci',
        match: { subject: 'repo:acme/app:*', claims: { repository_owner_id: '1234567', workflow: 'deploy' } },
        principal: 'ci:{repository_owner_id}/{repository_id}',
        allow: { mcp: { tickets: { tools: ['deploy'] } } },
        limits: { requestsPerMinute: 2 },
      })
    },
  })
  plain = await stack.mint()
  deployer = await stack.mint({ workflow: 'deploy' })
})
afterAll(async () => {
  await stack?.close()
  await upstream?.close()
})

async function connect(bearer: string, rule?: string): Promise<Client> {
  const client = new Client({ name: 'test', version: '1' })
  const headers: Record<string, string> = { authorization: `Bearer ${bearer}`, ...(rule === undefined ? {} : { 'skillgate-rule': rule }) }
  await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp/tickets`), { requestInit: { headers } }))
  return client
}

const toolNames = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name)

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  )
}

describe('rule selection at /mcp/{id}: the skillgate-rule header, as on /v1', () => {
  it('one matching rule: no header needed', async () => {
    const client = await connect(plain)
    expect(await toolNames(client)).toEqual(['echo'])
    await client.close()
  })

  it('claims matching two allow rules: refused as ambiguous, the message saying to name one', async () => {
    const error = (await failure(connect(deployer))) as Error
    expect(error).toBeInstanceOf(Error)
    expect(error.message).toContain('"type":"permission_error"')
    expect(error.message).toContain('several allow rules match (ci-app, deployer); name one with the skillgate-rule header')
  })

  it('the header names one: that rule\'s tools only', async () => {
    const asDeployer = await connect(deployer, 'deployer')
    expect(await toolNames(asDeployer)).toEqual(['deploy'])
    await asDeployer.close()
    const asApp = await connect(deployer, 'ci-app')
    expect(await toolNames(asApp)).toEqual(['echo'])
    await asApp.close()
  })

  it('a named rule the claims do not match, or that does not exist: refused', async () => {
    expect(((await failure(connect(plain, 'deployer'))) as Error).message).toContain('the named rule deployer does not match this identity')
    const unknown = ((await failure(connect(plain, 'nope'))) as Error).message
    expect(unknown).toContain('"type":"permission_error"')
    expect(unknown).toContain('nope')
  })
})

describe('an MCP-only rule (allow.mcp, no allow.endpoints)', () => {
  it('allows nothing on /v1', async () => {
    const before = stack.mock.requests.length
    const response = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deployer}`, 'skillgate-rule': 'deployer', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: messageBody(),
    })
    expect(response.status).toBe(403)
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('endpoint messages is not in allow.endpoints')
    expect(stack.mock.requests.length).toBe(before)
  })

  it('steps aside at the token exchange too: the minted token is bound to the /v1 rule; naming it still works', async () => {
    const exchange = async (named: Record<string, string>) => {
      const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: deployer })
      const response = await fetch(`${stack.url}/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...named }, body })
      expect(response.status).toBe(200)
      return decodeJwt(((await response.json()) as { access_token: string }).access_token)
    }
    expect((await exchange({})).rule).toBe('ci-app')
    expect((await exchange({ 'skillgate-rule': 'deployer' })).rule).toBe('deployer')
  })

  it('steps aside on /v1 when another rule matches too: the job needs no header there', async () => {
    const before = stack.mock.requests.length
    const response = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deployer}`, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: messageBody(),
    })
    expect(response.status).toBe(200)
    await response.text()
    expect(stack.mock.requests.length).toBe(before + 1)
  })
})

describe('tool calls under the rule\'s limits', () => {
  it('past requestsPerMinute: −32001 naming the rule, the limit and when to retry; not forwarded; audited as a 429', async () => {
    await clearOfMinuteBoundary()
    const client = await connect(deployer, 'deployer')
    for (const env of ['a', 'b']) expect((await client.callTool({ name: 'deploy', arguments: { env } })).isError).toBeFalsy()
    const error = (await failure(client.callTool({ name: 'deploy', arguments: { env: 'c' } }))) as McpError
    expect(error).toBeInstanceOf(McpError)
    expect(error.code).toBe(-32001)
    expect(error.message).toMatch(/^MCP error -32001: rate limit reached: rule deployer; requestsPerMinute is 2 \(tool calls and \/v1 requests together\): retry after \d+ s$/)
    const retryAfter = (error.data as { retryAfterSeconds: number }).retryAfterSeconds
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(upstream.calls.filter((c) => c.name === 'deploy').map((c) => c.arguments.env)).toEqual(['a', 'b'])
    // Listing is not a tool call: still answered.
    expect(await toolNames(client)).toEqual(['deploy'])
    await client.close()

    const { records } = await stack.gateway.audit.storage.audit.list({ limit: 50, endpoint: 'mcp.tools.call' })
    const limited = records.find((r) => r.error === 'GW_LIMIT_RATE')
    expect(limited).toMatchObject({ decision: 'deny', outcome: 'denied', status: 429, rule: 'deployer', principal: 'ci:1234567/42', tools: ['mcp__tickets__deploy'] })
    expect(limited?.reasons).toEqual([{ code: 'limit-exceeded', detail: expect.stringContaining('requestsPerMinute is 2') }])
    // The other rule of the same principal has its own limits (none here).
    const app = await connect(deployer, 'ci-app')
    expect((await app.callTool({ name: 'echo', arguments: { text: 'still fine' } })).isError).toBeFalsy()
    await app.close()
  }, 20_000)
})
