import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATEWAY_ISSUER_ID } from '../../src/identity/gateway-token.js'
import { startStack, type Stack } from '../e2e/harness.js'
import { startMcpTestServer, type McpTestServer } from './mcp-test-server.js'

/**
 * The connector rewrite through a running gateway: the mock upstream (playing Anthropic's connector)
 * receives the rewritten URL and a capability, the rest of the body byte for byte; the /v1 record
 * notes the rewrite with the token redacted; the capability is revoked once the request ended.
 */
let stack: Stack
let mcp: McpTestServer
let publicUrl: string

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

beforeAll(async () => {
  mcp = await startMcpTestServer({ requiredBearer: 'upstream-mcp-secret' })
  const port = await freePort()
  publicUrl = `http://127.0.0.1:${port}`
  stack = await startStack({
    configure(config) {
      config.listen = { host: '127.0.0.1', port, drainTimeout: '5s' }
      config.mcp = { publicUrl, insecureHttpForTests: true }
      config.mcpServers = [{ id: 'github', url: mcp.url, auth: { bearer: { value: 'upstream-mcp-secret' } } }, { id: 'jira', url: mcp.url }]
      const rules = config.rules as Array<Record<string, unknown>>
      const rule = rules[0] as { allow: Record<string, unknown> } & Record<string, unknown>
      rule.mcp = { connector: 'gateway' }
      rule.allow.mcp = { github: { tools: ['search_*'] }, jira: { tools: ['*'] } }
      rule.allow.tools = [...(rule.allow.tools as string[]), 'mcp_toolset']
      rules.push({ ...structuredClone(rule), id: 'direct-only', match: { subject: 'repo:acme/other:*', claims: { repository_owner_id: '1234567' } }, mcp: { connector: 'direct' } })
    },
  })
})

afterAll(async () => {
  await stack?.close()
  await mcp?.close()
})

const body = (servers: string, extra = '') =>
  Buffer.from(`{"model":  "claude-sonnet-4-6", "max_tokens":64,"future_field":{"x":[1, 2.50]},\n "messages":[{"role":"user","content":"find bugs MOCK:MCP:search_issues"}],\n "mcp_servers": ${servers}${extra}}`)

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
    await res.text()
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

    // The request ended: its capability is on the revocation list every replica reads.
    expect(stack.gateway.revocations.checkToken(GATEWAY_ISSUER_ID, claims.iss as string, claims.jti as string)).toBe('token-revoked')
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
