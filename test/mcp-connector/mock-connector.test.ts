import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockUpstream, type MockUpstream } from '../../src/mock-upstream/index.js'
import { startMcpTestServer, type McpTestServer } from './mcp-test-server.js'

let mock: MockUpstream
let mcp: McpTestServer

beforeAll(async () => {
  mock = await startMockUpstream()
  mcp = await startMcpTestServer({ requiredBearer: 'good-token' })
})
afterAll(async () => {
  await mock.close()
  await mcp.close()
})

async function ask(servers: unknown[], text: string, stream = false): Promise<{ status: number; content: Array<Record<string, unknown>>; raw: string }> {
  const res = await fetch(`${mock.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': mock.apiKey, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'mcp-client-2025-11-20', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-opus-4-1', max_tokens: 100, stream, mcp_servers: servers, messages: [{ role: 'user', content: text }] }),
  })
  const raw = await res.text()
  return { status: res.status, content: stream ? [] : ((JSON.parse(raw) as { content: Array<Record<string, unknown>> }).content), raw }
}

describe('mock upstream playing the MCP connector', () => {
  it('connects with the token as a bearer, lists, calls the named tool, answers mcp_tool_use + mcp_tool_result', async () => {
    const { status, content } = await ask([{ type: 'url', url: mcp.url, name: 'gh', authorization_token: 'good-token' }], 'find it MOCK:MCP:search_issues')
    expect(status).toBe(200)
    expect(content[0]).toMatchObject({ type: 'mcp_tool_use', name: 'search_issues', server_name: 'gh', input: { query: 'mock-query' } })
    expect(content[1]).toMatchObject({ type: 'mcp_tool_result', tool_use_id: content[0]?.id, is_error: false, content: [{ type: 'text', text: 'found 2 issues for mock-query' }] })
    expect(mcp.authorizations.every((value) => value === 'Bearer good-token')).toBe(true)
    expect(mcp.calls.at(-1)).toEqual({ name: 'search_issues', args: { query: 'mock-query' } })
  })

  it('the first listed tool by default; streaming carries the same blocks', async () => {
    const { raw } = await ask([{ type: 'url', url: mcp.url, name: 'gh', authorization_token: 'good-token' }], 'hello', true)
    expect(raw).toContain('"type":"mcp_tool_use"')
    expect(raw).toContain('"name":"search_issues"')
    expect(raw).toContain('found 2 issues')
  })

  it('a refused connection is an error result, not a crash', async () => {
    const { status, content } = await ask([{ type: 'url', url: mcp.url, name: 'gh', authorization_token: 'bad' }], 'MOCK:MCP:search_issues')
    expect(status).toBe(200)
    expect(content[1]).toMatchObject({ type: 'mcp_tool_result', is_error: true })
    expect(JSON.stringify(content[1])).toMatch(/MCP call failed/)
  })

  it('without a token the canned echo stays', async () => {
    const { content } = await ask([{ type: 'url', url: mcp.url, name: 'gh' }], 'hi')
    expect(content[0]).toMatchObject({ type: 'mcp_tool_use', name: 'echo' })
  })
})
