import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  MOCK_ADVICE_TEXT, MOCK_ADVISOR_OUTPUT_TOKENS, MOCK_COMPACTION_OUTPUT_TOKENS, MOCK_COMPACTION_TEXT, MOCK_PII, startMockUpstream, type MockUpstream,
} from '../../src/mock-upstream/index.js'
import { checkGrammarAndAssemble, messagesBody, post, streamEvents } from './helpers.js'

/** The 2026 shapes the mock serves (claude-api-2026.md §2, §3, §7): advisor, compaction, iterations usage. */
let mock: MockUpstream

beforeAll(async () => {
  mock = await startMockUpstream()
})
afterAll(async () => {
  await mock.close()
})
beforeEach(() => mock.reset())

type Message = { content: Record<string, unknown>[]; usage: Record<string, unknown> & { input_tokens: number; output_tokens: number; iterations?: Record<string, unknown>[] } }

const advisor = (model: string) => ({ tools: [{ type: 'advisor_20260301', name: 'advisor', model }] })

async function create(body: Record<string, unknown>): Promise<Message> {
  const res = await post(mock, '/v1/messages', body)
  expect(res.status).toBe(200)
  return (await res.json()) as Message
}

describe('advisor tool', () => {
  it('answers server_tool_use advisor + advisor_result, and bills the advisor only in usage.iterations', async () => {
    const msg = await create(messagesBody(advisor('claude-opus-4-8')))
    const [use, result] = msg.content.filter((b) => b.type === 'server_tool_use' || b.type === 'advisor_tool_result')
    expect(use).toMatchObject({ type: 'server_tool_use', name: 'advisor', input: {} })
    expect(result).toMatchObject({ type: 'advisor_tool_result', tool_use_id: use?.id, content: { type: 'advisor_result', text: MOCK_ADVICE_TEXT } })
    const iterations = msg.usage.iterations ?? []
    expect(iterations.map((it) => it.type)).toEqual(['advisor_message', 'message'])
    expect(iterations[0]).toMatchObject({ model: 'claude-opus-4-8', output_tokens: MOCK_ADVISOR_OUTPUT_TOKENS })
    expect(iterations[1]).toMatchObject({ model: 'claude-sonnet-4-6', input_tokens: msg.usage.input_tokens, output_tokens: msg.usage.output_tokens })
  })

  it('encrypts the advice of Opus 5 class advisors', async () => {
    const msg = await create(messagesBody(advisor('claude-opus-5')))
    const result = msg.content.find((b) => b.type === 'advisor_tool_result')
    expect(result?.content).toMatchObject({ type: 'advisor_redacted_result', encrypted_content: expect.stringMatching(/^EqMock/) })
  })

  it('puts PII in the advice on MOCK:PII, so masking can be tested', async () => {
    const msg = await create(messagesBody(advisor('claude-opus-4-8'), 'MOCK:PII please'))
    const result = msg.content.find((b) => b.type === 'advisor_tool_result') as { content: { text: string } }
    expect(result.content.text).toContain(MOCK_PII.email)
  })

  it('streams the result whole in content_block_start and iterations only in the final message_delta', async () => {
    const { events } = await streamEvents(mock, messagesBody({ ...advisor('claude-opus-4-8'), stream: true }))
    const message = checkGrammarAndAssemble(events)
    expect(message.content.map((b) => b.type)).toEqual(['server_tool_use', 'advisor_tool_result', 'text'])
    const start = events.find((e) => e.event === 'message_start')?.json as { message: { usage: Record<string, unknown> } }
    expect(start.message.usage.iterations).toBeUndefined()
    const delta = events.find((e) => e.event === 'message_delta')?.json as { usage: { iterations: unknown[] } }
    expect(delta.usage.iterations).toHaveLength(2)
  })
})

describe('compaction', () => {
  it('returns a compaction block first and bills it only in usage.iterations', async () => {
    const msg = await create(messagesBody({ context_management: { edits: [{ type: 'compact_20260112', trigger: { type: 'input_tokens', value: 50000 } }] } }))
    expect(msg.content[0]).toEqual({ type: 'compaction', content: MOCK_COMPACTION_TEXT })
    expect(msg.usage.iterations?.[0]).toMatchObject({ type: 'compaction', output_tokens: MOCK_COMPACTION_OUTPUT_TOKENS })
  })

  it('without server-side work there is no iterations list', async () => {
    expect((await create(messagesBody())).usage.iterations).toBeUndefined()
  })
})

describe('anthropic-version 2026-10-21', () => {
  const v2026 = { 'anthropic-version': '2026-10-21' }
  it('refuses sampling parameters, an assistant document and cited user text; 2023-06-01 accepts them', async () => {
    const cases = [
      messagesBody({ top_k: 40 }),
      { ...messagesBody(), messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }, { role: 'user', content: 'go' }] },
      { ...messagesBody(), messages: [{ role: 'user', content: [{ type: 'search_result', source: 's', title: 't', content: [{ type: 'text', text: 'x', citations: [{ type: 'char_location' }] }] }] }] },
    ]
    for (const body of cases) {
      const refused = await post(mock, '/v1/messages', body, v2026)
      expect(refused.status).toBe(400)
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('2026-10-21')
      expect((await post(mock, '/v1/messages', body)).status).toBe(200)
    }
  })
})

describe('Managed Agents families', () => {
  const beta = (value: string) => ({ 'anthropic-beta': value })
  it('needs each family\'s beta header, and refuses managed-agents with agent-memory together', async () => {
    expect((await post(mock, '/v1/agents', { name: 'a', model: 'claude-sonnet-4-6' })).status).toBe(400)
    const created = await post(mock, '/v1/agents', { name: 'a', model: 'claude-sonnet-4-6' }, beta('managed-agents-2026-04-01'))
    expect(await created.json()).toMatchObject({ type: 'agent', version: 1, model: { id: 'claude-sonnet-4-6' } })
    expect((await post(mock, '/v1/memory_stores', { name: 'm' }, beta('managed-agents-2026-04-01,agent-memory-2026-07-22'))).status).toBe(400)
    expect((await post(mock, '/v1/memory_stores', { name: 'm' }, beta('agent-memory-2026-07-22'))).status).toBe(200)
  })

  it('reveals a tunnel token and never echoes vault secrets', async () => {
    const tunnel = (await (await post(mock, '/v1/tunnels', { name: 't' }, beta('mcp-tunnels-2026-06-22'))).json()) as { id: string }
    const token = await post(mock, `/v1/tunnels/${tunnel.id}/reveal_token`, {}, beta('mcp-tunnels-2026-06-22'))
    expect(await token.json()).toMatchObject({ type: 'tunnel_token', tunnel_token: `mock-tunnel-token-${tunnel.id}` })
    const vault = (await (await post(mock, '/v1/vaults', { display_name: 'v' }, beta('managed-agents-2026-04-01'))).json()) as { id: string }
    const credential = await post(mock, `/v1/vaults/${vault.id}/credentials`, { display_name: 'c', token: 'secret-1', access_token: 'secret-2' }, beta('managed-agents-2026-04-01'))
    const text = await credential.text()
    expect(text).toContain('vault_credential')
    expect(text).not.toContain('secret-')
  })
})

describe('anthropic-version 2026-10-21 in batches', () => {
  const entry = (custom_id: string, extra: Record<string, unknown> = {}) => ({ custom_id, params: messagesBody(extra) })
  it('checks each entry\'s params under the create call\'s version: 400 naming the entry', async () => {
    const body = { requests: [entry('ok'), entry('hot', { temperature: 1 })] }
    const refused = await post(mock, '/v1/messages/batches', body, { 'anthropic-version': '2026-10-21' })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'requests.1.params.temperature: not supported with anthropic-version 2026-10-21' } })
    const cited = { requests: [entry('c', { messages: [{ role: 'user', content: [{ type: 'text', text: 'x', citations: [{ type: 'char_location' }] }] }] })] }
    expect(((await (await post(mock, '/v1/messages/batches', cited, { 'anthropic-version': '2026-10-21' })).json()) as { error: { message: string } }).error.message).toMatch(/^requests\.0\.params\.messages\.0\.content\.0: citations/)
    // The same batch under 2023-06-01, and a clean one under 2026-10-21, are created.
    expect((await post(mock, '/v1/messages/batches', body)).status).toBe(200)
    expect((await post(mock, '/v1/messages/batches', { requests: [entry('ok')] }, { 'anthropic-version': '2026-10-21' })).status).toBe(200)
  })
})

describe('Managed Agents session events and deployment runs', () => {
  const managed = { 'anthropic-beta': 'managed-agents-2026-04-01' }
  it('takes the events a client sends, lists them, and refuses others', async () => {
    const session = (await (await post(mock, '/v1/sessions', { agent: 'agent_1', environment_id: 'env_1' }, managed)).json()) as { id: string }
    const sent = await post(mock, `/v1/sessions/${session.id}/events`, { events: [{ type: 'user.message', content: [{ type: 'text', text: 'hi' }] }, { type: 'user.tool_confirmation', tool_use_id: 'sevt_x', result: 'allow' }] }, managed)
    const { data } = (await sent.json()) as { data: Array<{ id: string; type: string; processed_at: string }> }
    expect(data.map((e) => e.type)).toEqual(['user.message', 'user.tool_confirmation'])
    expect(data[0]?.id).toMatch(/^sevt_/)
    const listed = await fetch(`${mock.url}/v1/sessions/${session.id}/events`, { headers: { 'x-api-key': mock.apiKey, 'anthropic-version': '2023-06-01', ...managed } })
    expect(((await listed.json()) as { data: unknown[] }).data).toHaveLength(2)
    expect((await post(mock, `/v1/sessions/${session.id}/events`, { events: [{ type: 'agent.message' }] }, managed)).status).toBe(400)
    expect((await post(mock, '/v1/sessions/sesn_nope/events', { events: [{ type: 'user.interrupt' }] }, managed)).status).toBe(404)
  })

  it('runs a deployment into a new session', async () => {
    const deployment = (await (await post(mock, '/v1/deployments', { name: 'd', agent: 'agent_1', environment_id: 'env_1' }, managed)).json()) as { id: string }
    const run = (await (await post(mock, `/v1/deployments/${deployment.id}/run`, {}, managed)).json()) as { id: string; session_id: string; deployment_id: string }
    expect(run).toMatchObject({ type: 'deployment_run', deployment_id: deployment.id, session_id: expect.stringMatching(/^sesn_/) })
    const got = await fetch(`${mock.url}/v1/deployment_runs/${run.id}`, { headers: { 'x-api-key': mock.apiKey, 'anthropic-version': '2023-06-01', ...managed } })
    expect(await got.json()).toMatchObject({ id: run.id })
  })
})
