import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MOCK_PII } from '../../src/mock-upstream/index.js'
import { runClaude } from '../e2e/claude-code.js'
import { startStack, type Stack } from '../e2e/harness.js'
import { startUpstreamFixture, UPSTREAM_BEARER, type UpstreamFixture } from './upstream-fixture.js'

/**
 * Claude Code 2.1.197 with `--mcp-config` pointing at the gateway's `/mcp/tickets` (issue #19 "done
 * when"): the mock upstream, scripted with `MOCK:TOOL:<name>`, asks for `mcp__tickets__<tool>`;
 * Claude Code sees only the granted tools, calls one through the gateway with the workload token, and
 * the masked result goes back to the model. The MCP server sees only the gateway's credential.
 */
const APPROVER_TOKEN = 'approver-token-for-claude-code-mcp-0123'
let stack: Stack
let upstream: UpstreamFixture
let token: string
let home: string

beforeAll(async () => {
  upstream = await startUpstreamFixture()
  stack = await startStack({
    configure: (config) => {
      config.mcpServers = [{ id: 'tickets', url: upstream.url, auth: { bearer: { value: UPSTREAM_BEARER } } }]
      const rule = (config.rules as Array<Record<string, unknown>>)[0]!
      ;(rule.allow as Record<string, unknown>).mcp = { tickets: { tools: ['echo', 'deploy'] } }
      rule.masking = ['default']
      rule.approval = { mcpTools: ['tickets/deploy'], hold: '60s' }
      config.masking = { profiles: { default: { detectors: ['email'] } } }
      config.admin = { tokens: [{ secret: { value: APPROVER_TOKEN }, roles: ['approver'] }] }
    },
  })
  token = await stack.mint({}, { expiresIn: 900 })
  home = mkdtempSync(join(tmpdir(), 'skillgate-cc-mcp-'))
})
afterAll(async () => {
  await stack?.close()
  await upstream?.close()
  rmSync(home, { recursive: true, force: true })
})

/**
 * Claude Code does not send its session id to MCP servers; naming the session (`--session-id`) and
 * sending the same id as a header links the tool calls to the session's turns on the audit.
 */
function claude(prompt: string, session: string = crypto.randomUUID()) {
  const mcpConfig = join(home, 'mcp.json')
  const headers = { Authorization: `Bearer ${token}`, 'x-claude-code-session-id': session }
  writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { tickets: { type: 'http', url: `${stack.url}/mcp/tickets`, headers } } }))
  return runClaude(
    ['-p', prompt, '--session-id', session, '--output-format', 'json', '--model', 'claude-sonnet-4-6', '--mcp-config', mcpConfig, '--strict-mcp-config', '--allowedTools', 'mcp__tickets__echo,mcp__tickets__deploy,mcp__tickets__drop_database', '--max-turns', '3'],
    { HOME: home, CLAUDE_CONFIG_DIR: join(home, '.claude'), ANTHROPIC_BASE_URL: stack.url, ANTHROPIC_AUTH_TOKEN: token },
  )
}

/** The tool_result Claude Code sent back to the model for the tool_use of `name`. */
function toolResultFor(name: string): string | undefined {
  const turns = stack.mock.requests.filter((r) => r.path === '/v1/messages').map((r) => r.json as { messages: { role: string; content: unknown }[]; tools?: { name: string }[] })
  for (const turn of turns) {
    const blocks = turn.messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as Record<string, unknown>[]) : []))
    const use = blocks.find((b) => b.type === 'tool_use' && b.name === name)
    const result = use && blocks.find((b) => b.type === 'tool_result' && b.tool_use_id === use.id)
    if (result) return JSON.stringify(result)
  }
  return undefined
}

describe('Claude Code through the MCP endpoint', () => {
  it('sees only granted tools, calls one through the gateway, and the model gets the masked result', async () => {
    stack.mock.reset()
    const session = crypto.randomUUID()
    const run = await claude('MOCK:TOOL:mcp__tickets__echo', session)
    expect(run.code, run.stderr + run.stdout).toBe(0)
    const first = stack.mock.requests.find((r) => r.path === '/v1/messages')?.json as { tools: { name: string }[] }
    const mcpTools = first.tools.map((t) => t.name).filter((n) => n.startsWith('mcp__'))
    expect(mcpTools.sort()).toEqual(['mcp__tickets__deploy', 'mcp__tickets__echo'])
    const result = toolResultFor('mcp__tickets__echo')
    // Claude Code hands the model the structured result when there is one: masked too.
    expect(result).toContain('mock-text')
    expect(result).toContain('[REDACTED:email]')
    expect(result).not.toContain(MOCK_PII.email)
    expect(upstream.calls.at(-1)).toEqual({ name: 'echo', arguments: { text: 'mock-text' } })
    for (const seen of upstream.authorizations) expect(seen).toBe(`Bearer ${UPSTREAM_BEARER}`)
    // The session lists both turns and the tool call between them.
    const { records } = await stack.gateway.audit.storage.audit.list({ limit: 50, clientSession: session })
    expect(records.map((r) => r.endpoint).reverse()).toEqual(['messages', 'mcp.tools.call', 'messages'])
    expect(records[1]).toMatchObject({ tools: ['mcp__tickets__echo'], outcome: 'completed', principal: 'ci:1234567/42' })
  }, 120_000)

  it('an ungranted tool is not even offered to the model; asking for it never reaches the server', async () => {
    stack.mock.reset()
    const before = upstream.calls.length
    const run = await claude('MOCK:TOOL:mcp__tickets__drop_database')
    expect(run.code === 0 || run.code === 1, run.stderr).toBe(true)
    const first = stack.mock.requests.find((r) => r.path === '/v1/messages')?.json as { tools: { name: string }[] }
    expect(first.tools.map((t) => t.name)).not.toContain('mcp__tickets__drop_database')
    expect(upstream.calls.slice(before).some((c) => c.name === 'drop_database')).toBe(false)
  }, 120_000)

  it('waits for an approval and completes: the call is held at the gateway until an approver says yes', async () => {
    stack.mock.reset()
    const running = claude('MOCK:TOOL:mcp__tickets__deploy')
    const review = await pendingReview()
    expect(review.summary.tools).toEqual(['mcp__tickets__deploy'])
    expect(upstream.calls.some((c) => c.name === 'deploy')).toBe(false)
    const approved = await fetch(`${stack.url}/admin/api/reviews/${review.id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${APPROVER_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'ok' }),
    })
    expect(approved.status).toBe(200)
    const run = await running
    expect(run.code, run.stderr + run.stdout).toBe(0)
    expect(upstream.calls.at(-1)?.name).toBe('deploy')
    expect(toolResultFor('mcp__tickets__deploy')).toContain('deploy done')
  }, 120_000)
})

async function pendingReview(): Promise<{ id: string; summary: { tools: string[] } }> {
  for (let i = 0; i < 600; i++) {
    const response = await fetch(`${stack.url}/admin/api/reviews?state=pending`, { headers: { authorization: `Bearer ${APPROVER_TOKEN}` } })
    const { reviews } = (await response.json()) as { reviews: { id: string; summary: { tools: string[] } }[] }
    if (reviews[0]) return reviews[0]
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('no pending review appeared')
}
