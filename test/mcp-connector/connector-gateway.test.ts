import { connect, createServer, type Server } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { GATEWAY_ISSUER_ID } from '../../src/identity/gateway-token.js'
import { startStack, type Stack } from '../e2e/harness.js'
import { startMcpTestServer, type McpTestServer } from './mcp-test-server.js'

/**
 * The connector rewrite through a running gateway: the mock upstream, playing Anthropic's connector,
 * receives the rewritten URL and a capability (the rest of the body byte for byte) and really calls
 * `/mcp/{id}` with it; the gateway calls the MCP server with its own credential, audits the call
 * linked to the /v1 record, and refuses the capability at another server, for a tool outside its
 * set, and once its request ended.
 */
let stack: Stack
let mcp: McpTestServer
/** jira: a server without a credential. */
let open: McpTestServer
let publicUrl: string

let front: Server
const relayed = new Set<{ destroy(): void }>()

/**
 * `mcp.publicUrl` must be in the config before the gateway listens (on a port the harness picks): a
 * TCP relay on a known port stands for the public address Anthropic would reach.
 */
async function openFront(): Promise<{ port: number; target: { port: number } }> {
  const target = { port: 0 }
  front = createServer((socket) => {
    const upstream = connect(target.port, '127.0.0.1')
    relayed.add(socket).add(upstream)
    socket.pipe(upstream).pipe(socket)
    const end = () => {
      socket.destroy()
      upstream.destroy()
    }
    socket.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  return { port: (front.address() as { port: number }).port, target }
}

beforeAll(async () => {
  mcp = await startMcpTestServer({ requiredBearer: 'upstream-mcp-secret' })
  open = await startMcpTestServer()
  const relay = await openFront()
  publicUrl = `http://127.0.0.1:${relay.port}`
  stack = await startStack({
    configure(config) {
      config.mcp = { publicUrl, insecureHttpForTests: true }
      config.mcpServers = [{ id: 'github', url: mcp.url, auth: { bearer: { value: 'upstream-mcp-secret' } } }, { id: 'jira', url: open.url }]
      const rules = config.rules as Array<Record<string, unknown>>
      const rule = rules[0] as { allow: Record<string, unknown> } & Record<string, unknown>
      rule.mcp = { connector: 'gateway' }
      rule.allow.mcp = { github: { tools: ['search_*'] }, jira: { tools: ['*'] } }
      rule.allow.tools = [...(rule.allow.tools as string[]), 'mcp_toolset']
      rules.push({ ...structuredClone(rule), id: 'direct-only', match: { subject: 'repo:acme/other:*', claims: { repository_owner_id: '1234567' } }, mcp: { connector: 'direct' } })
    },
  })
  relay.target.port = Number(new URL(stack.url).port)
})

afterAll(async () => {
  await stack?.close()
  await mcp?.close()
  await open?.close()
  for (const socket of relayed) socket.destroy()
  await new Promise((resolve) => front?.close(resolve))
})

const body = (servers: string, extra = '') =>
  Buffer.from(`{"model":  "claude-sonnet-4-6", "max_tokens":64,"future_field":{"x":[1, 2.50]},\n "messages":[{"role":"user","content":"find bugs MOCK:MCP:search_issues"}],\n "mcp_servers": ${servers}${extra}}`)

/** The capability as an MCP client (Anthropic's connector) would present it: the error, or the tools. */
async function useCapability(capability: string, serverId: string): Promise<{ tools?: string[]; error?: string }> {
  const client = new Client({ name: 'replayed-connector', version: '1' })
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${publicUrl}/mcp/${serverId}`), { requestInit: { headers: { authorization: `Bearer ${capability}` } } }))
    return { tools: (await client.listTools()).tools.map((tool) => tool.name) }
  } catch (error) {
    return { error: (error as Error).message }
  } finally {
    await client.close().catch(() => undefined)
  }
}

type Block = Record<string, unknown>

async function post(bytes: Buffer, token: string, path = '/v1/messages'): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'mcp-client-2025-11-20', 'content-type': 'application/json' },
    body: bytes,
  })
}

describe('MCP connector through a running gateway', () => {
  it('forwards the rewritten server with a capability, everything else byte for byte; audited; revoked at the end', async () => {
    const sent = body('[{"type":"url","url":"skillgate:github","name":"gh"}]', ',"tools":[{"type":"mcp_toolset","mcp_server_name":"gh","default_config":{"enabled":false},"configs":{"search_issues":{"enabled":true},"delete_repo":{"enabled":true}}}]')
    stack.mock.reset()
    const res = await post(sent, await stack.mint())
    expect(res.status).toBe(200)
    const answer = (await res.json()) as { content: Block[] }
    // Anthropic's connector (the mock) called the gateway with the capability; the gateway called the server.
    expect(answer.content[0]).toMatchObject({ type: 'mcp_tool_use', name: 'search_issues', server_name: 'gh' })
    expect(answer.content[1]).toMatchObject({ type: 'mcp_tool_result', is_error: false, content: [{ type: 'text', text: 'found 2 issues for mock-query' }] })
    expect(mcp.calls.at(-1)).toEqual({ name: 'search_issues', args: { query: 'mock-query' } })
    const forwarded = stack.mock.requests.at(-1)
    const entry = (forwarded?.json as { mcp_servers: Array<Record<string, string>> }).mcp_servers[0] as Record<string, string>
    expect(entry.url).toBe(`${publicUrl}/mcp/github`)
    const capability = entry.authorization_token as string
    expect(capability.startsWith('sgcap.')).toBe(true)
    const restored = forwarded?.body.toString().replace(`,"authorization_token":${JSON.stringify(capability)}`, '').replace(JSON.stringify(`${publicUrl}/mcp/github`), '"skillgate:github"')
    expect(restored).toBe(sent.toString())

    const claims = JSON.parse(Buffer.from(capability.split('.')[2] as string, 'base64url').toString()) as Record<string, unknown>
    const id = res.headers.get('skillgate-request-id') ?? ''
    expect(claims).toMatchObject({ aud: `${publicUrl}/mcp/github`, srv: 'github', sub: 'ci:1234567/42', rule: 'ci-app', cby: id, tools: ['search_issues'] })

    const record = await stack.gateway.audit.storage.audit.get(id)
    expect(record?.reasons.at(-1)).toEqual({ code: 'mcp-connector-rewritten', detail: `skillgate:github → ${publicUrl}/mcp/github (tools: search_issues)` })
    expect(JSON.stringify(record)).not.toContain(capability.slice(10, 60))
    expect(JSON.stringify(record?.request)).toContain('[REDACTED:credential]')

    // The tool call is its own record, linked to the /v1/messages record that caused it.
    const { records } = await stack.gateway.audit.storage.audit.list({ limit: 50 })
    const call = records.find((r) => r.endpoint === 'mcp.tools.call' && r.causedBy === id)
    expect(call).toMatchObject({ principal: 'ci:1234567/42', rule: 'ci-app', decision: 'allow', outcome: 'completed' })

    // The server only ever saw the gateway's credential, never the capability.
    for (const seen of mcp.authorizations) expect(seen).toBe('Bearer upstream-mcp-secret')

    // The request ended: its capability is on the revocation list every replica reads, and refused.
    // (The stage revokes as the pipeline returns, right after the last byte was written.)
    await vi.waitFor(() => expect(stack.gateway.revocations.checkToken(GATEWAY_ISSUER_ID, claims.iss as string, claims.jti as string)).toBe('token-revoked'))
    expect((await useCapability(capability, 'github')).error).toMatch(/401|revoked/i)
    // At another server it is refused whatever its state.
    expect((await useCapability(capability, 'jira')).error).toMatch(/403|another MCP server/)
  })

  it('a tool outside the capability\'s set is refused (-32001) even where the rule grants every tool', async () => {
    const sent = body('[{"type":"url","url":"skillgate:jira","name":"j"}]', ',"tools":[{"type":"mcp_toolset","mcp_server_name":"j","default_config":{"enabled":false},"configs":{"search_issues":{"enabled":true}}}]')
    const text = sent.toString().replace('MOCK:MCP:search_issues', 'MOCK:MCP:delete_repo')
    const res = await post(Buffer.from(text), await stack.mint())
    expect(res.status).toBe(200)
    const answer = (await res.json()) as { content: Block[] }
    expect(answer.content[1]).toMatchObject({ type: 'mcp_tool_result', is_error: true })
    expect(JSON.stringify(answer.content[1])).toMatch(/outside this token's tools/)
    expect(open.calls.map((c) => c.name)).not.toContain('delete_repo')
  })

  it('a tool the request turned off is refused at /mcp (−32001) even where the rule grants every tool; the others still run', async () => {
    const toolset = ',"tools":[{"type":"mcp_toolset","mcp_server_name":"j","configs":{"delete_repo":{"enabled":false}}}]'
    const sent = body('[{"type":"url","url":"skillgate:jira","name":"j"}]', toolset)
    const turnedOff = await post(Buffer.from(sent.toString().replace('MOCK:MCP:search_issues', 'MOCK:MCP:delete_repo')), await stack.mint())
    expect(turnedOff.status).toBe(200)
    const refusedAnswer = (await turnedOff.json()) as { content: Block[] }
    expect(refusedAnswer.content[1]).toMatchObject({ type: 'mcp_tool_result', is_error: true })
    expect(JSON.stringify(refusedAnswer.content[1])).toContain('tool delete_repo on MCP server jira is turned off for this token (the request disabled it)')
    expect(open.calls.map((c) => c.name)).not.toContain('delete_repo')
    const id = turnedOff.headers.get('skillgate-request-id') ?? ''
    expect((await stack.gateway.audit.storage.audit.get(id))?.reasons.at(-1)?.detail).toBe(`skillgate:jira → ${publicUrl}/mcp/jira (tools: the rule's; turned off: delete_repo)`)
    const capability = ((stack.mock.requests.at(-1)?.json as { mcp_servers: Array<Record<string, string>> }).mcp_servers[0] as Record<string, string>).authorization_token as string
    expect(JSON.parse(Buffer.from(capability.split('.')[2] as string, 'base64url').toString())).toMatchObject({ xtools: ['delete_repo'] })
    expect(JSON.parse(Buffer.from(capability.split('.')[2] as string, 'base64url').toString())).not.toHaveProperty('tools')

    const allowed = await post(sent, await stack.mint())
    expect(allowed.status).toBe(200)
    expect(((await allowed.json()) as { content: Block[] }).content[1]).toMatchObject({ type: 'mcp_tool_result', is_error: false })
    expect(open.calls.at(-1)?.name).toBe('search_issues')
  })

  it('400 under a rule without the opt-in; 400 with a client token; 400 in a batch; 403 for an ungranted server; nothing forwarded', async () => {
    stack.mock.reset()
    const other = await stack.mint({ sub: 'repo:acme/other:ref:refs/heads/main' })
    const optIn = await post(body('[{"type":"url","url":"skillgate:github","name":"gh"}]'), other)
    expect(optIn.status).toBe(400)
    expect(((await optIn.json()) as { error: { message: string } }).error.message).toMatch(/mcp\.connector: gateway.*direct-only/)
    const token = await stack.mint()
    const supplied = await post(body('[{"type":"url","url":"skillgate:github","name":"gh","authorization_token":"ghp_client"}]'), token)
    expect(supplied.status).toBe(400)
    expect(await supplied.text()).not.toContain('ghp_client')
    const batch = Buffer.from(`{"requests":[{"custom_id":"a","params":${body('[{"type":"url","url":"skillgate:github","name":"gh"}]').toString()}}]}`)
    const inBatch = await post(batch, token, '/v1/messages/batches')
    expect(inBatch.status).toBe(400)
    expect(((await inBatch.json()) as { error: { message: string } }).error.message).toMatch(/batch/)
    const ungranted = await post(body('[{"type":"url","url":"skillgate:slack","name":"s"}]'), token)
    expect(ungranted.status).toBe(403)
    await ungranted.text()
    expect(stack.mock.requests).toHaveLength(0)
  })
})
