import Anthropic from '@anthropic-ai/sdk'
import AnthropicLegacy from 'anthropic-sdk-0x'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MOCK_ADVICE_TEXT, MOCK_ADVISOR_OUTPUT_TOKENS, MOCK_PII } from '../../src/mock-upstream/index.js'
import { clearOfDayBoundary, defaultRules, startStack, type Stack } from './harness.js'

/**
 * Issue #18 through the official SDKs, unchanged: 1.x (API version 2026-10-21, Bearer) and the last
 * 0.x (2023-06-01). Every model a request can run is checked before anything goes upstream; the
 * model list answers only the rule's models.
 */
let stack: Stack
let token: string

beforeAll(async () => {
  stack = await startStack({
    configure(config) {
      const [base] = structuredClone(defaultRules)
      config.rules = [
        {
          ...base,
          allow: {
            endpoints: ['messages', 'count_tokens', 'models', 'batches'],
            // claude-opus-5 exactly (an advisor whose advice comes back encrypted); not claude-opus-5-5.
            models: ['claude-sonnet-*', 'claude-haiku-*', 'claude-opus-5'],
            tools: ['client:*', 'advisor_*', 'mcp_toolset'],
            mcpServers: [{ url: 'https://mcp.example.com/crm', tools: ['search_*'] }],
          },
          masking: ['default'],
        },
        // Two rules with the same output budget: one consults an advisor, one does not.
        ...['advised', 'plain'].map((id) => ({
          ...base,
          id,
          match: { subject: `repo:acme/${id}:*`, claims: { repository_owner_id: '1234567' } },
          allow: { endpoints: ['messages'], models: ['claude-sonnet-*'], tools: ['advisor_*'] },
          limits: { outputTokensPerDay: 1000 },
        })),
      ]
      config.masking = { profiles: { default: { detectors: ['email', 'credit-card', 'anthropic-key', 'aws-access-key'] } } }
    },
  })
  token = await stack.mint({}, { expiresIn: 600 })
})
afterAll(async () => {
  await stack.close()
})

const user = (text: string) => [{ role: 'user' as const, content: text }]
const upstreamMessages = () => stack.mock.requests.filter((r) => r.path === '/v1/messages')

/** Both SDK majors: they differ in API version and credential header, not in what policy reads. */
const clients = [
  ['@anthropic-ai/sdk 1.x', () => new Anthropic({ baseURL: stack.url, apiKey: token, maxRetries: 0 })],
  ['anthropic-sdk 0.x', () => new AnthropicLegacy({ baseURL: stack.url, apiKey: token, maxRetries: 0 }) as unknown as Anthropic],
] as const

describe.each(clients)('%s', (_name, client) => {
  it('lists only the models the rule allows, with page ids recomputed', async () => {
    const page = await client().models.list({ limit: 1000 })
    const ids = page.data.map((model) => model.id)
    expect(ids).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5-20251001', 'claude-sonnet-4-5'])
    expect(page.first_id).toBe('claude-sonnet-4-6')
    expect(page.last_id).toBe('claude-sonnet-4-5')
  })

  it('pages on through filtered pages (limit 2: each upstream page holds an ungranted model)', async () => {
    const ids: string[] = []
    for await (const model of client().models.list({ limit: 2 })) ids.push(model.id)
    expect(ids).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5-20251001', 'claude-sonnet-4-5'])
  })

  it('retrieves a granted model and refuses another with 403', async () => {
    await expect(client().models.retrieve('claude-sonnet-4-6')).resolves.toMatchObject({ id: 'claude-sonnet-4-6' })
    await expect(client().models.retrieve('claude-opus-5-5')).rejects.toMatchObject({ status: 403, message: expect.stringContaining('claude-opus-5-5 is not in allow.models') })
  })

  it('refuses an advisor naming an ungranted model before anything goes upstream', async () => {
    stack.mock.reset()
    const create = client().messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      tools: [{ type: 'advisor_20260301', name: 'advisor', model: 'claude-opus-5-5' }] as never,
      messages: user('plan this'),
    })
    await expect(create).rejects.toMatchObject({ status: 403, message: expect.stringContaining('claude-opus-5-5 (advisor tools[0]) is not in allow.models') })
    expect(upstreamMessages()).toHaveLength(0)
  })

  it('refuses a fallback naming an ungranted model, and "default" under a rule without "*"', async () => {
    stack.mock.reset()
    const named = client().messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, fallbacks: [{ model: 'claude-opus-4-8' }], messages: user('x') } as never)
    await expect(named).rejects.toMatchObject({ status: 403, message: expect.stringContaining('claude-opus-4-8 (fallbacks[0])') })
    const byDefault = client().messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, fallbacks: 'default', messages: user('x') } as never)
    await expect(byDefault).rejects.toMatchObject({ status: 403, message: expect.stringContaining('default (fallbacks)') })
    expect(upstreamMessages()).toHaveLength(0)
  })

  it('refuses a batch whose entry consults an ungranted advisor', async () => {
    const batch = client().messages.batches.create({
      requests: [
        { custom_id: 'ok', params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: user('a') } },
        { custom_id: 'bad', params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: user('b'), tools: [{ type: 'advisor_20260301', name: 'advisor', model: 'claude-opus-5-5' }] as never } },
      ],
    })
    await expect(batch).rejects.toMatchObject({ status: 403, message: expect.stringContaining('in requests[1]') })
  })

  it('forwards an MCP toolset enabling only granted tools, and refuses one enabling more', async () => {
    const server = { type: 'url', url: 'https://mcp.example.com/crm/sse', name: 'crm', authorization_token: 'mcp-secret-token' }
    const granted = { type: 'mcp_toolset', mcp_server_name: 'crm', default_config: { enabled: false }, configs: { search_contacts: { enabled: true } } }
    const message = await client().beta.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, mcp_servers: [server], tools: [granted], messages: user('find bob'), betas: ['mcp-client-2025-11-20'] } as never)
    expect((message as { content: { type: string }[] }).content.map((block) => block.type)).toContain('mcp_tool_result')
    const open = { type: 'mcp_toolset', mcp_server_name: 'crm' }
    const refused = client().beta.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, mcp_servers: [server], tools: [open], messages: user('x'), betas: ['mcp-client-2025-11-20'] } as never)
    await expect(refused).rejects.toMatchObject({ status: 403, message: expect.stringContaining('every tool (the toolset enables tools by default) on https://mcp.example.com/crm/sse') })
  })
})

describe('advisor, MCP and compaction answers are masked (SDK 1.x)', () => {
  const client = () => new Anthropic({ baseURL: stack.url, apiKey: token, maxRetries: 0 })
  const advisor = (model: string) => [{ type: 'advisor_20260301', name: 'advisor', model }] as never

  it('masks advisor_result text, streamed and not', async () => {
    const body = { model: 'claude-sonnet-4-6', max_tokens: 64, tools: advisor('claude-sonnet-4-6'), messages: user('MOCK:PII advise me') }
    for (const message of [await client().messages.create(body), await client().messages.stream(body).finalMessage()]) {
      const result = message.content.find((block) => (block.type as string) === 'advisor_tool_result') as unknown as { content: { type: string; text: string } }
      expect(result.content.type).toBe('advisor_result')
      expect(result.content.text).toContain(MOCK_ADVICE_TEXT)
      expect(result.content.text).toContain('[REDACTED:email]')
      expect(JSON.stringify(message)).not.toContain(MOCK_PII.email)
    }
  })

  it('passes the encrypted advisor variant unchanged', async () => {
    const direct = await fetch(`${stack.mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': stack.mock.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, tools: advisor('claude-opus-5'), messages: user('MOCK:PII') }),
    })
    const upstreamResult = ((await direct.json()) as { content: { type: string; content?: unknown }[] }).content.find((b) => b.type === 'advisor_tool_result')
    expect(upstreamResult?.content).toMatchObject({ type: 'advisor_redacted_result' })
    const message = await client().messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, tools: advisor('claude-opus-5'), messages: user('MOCK:PII') })
    const result = message.content.find((block) => (block.type as string) === 'advisor_tool_result') as unknown as { content: unknown }
    expect(result.content).toEqual(upstreamResult?.content)
  })

  it('masks mcp_tool_result content and compaction blocks', async () => {
    const server = { type: 'url', url: 'https://mcp.example.com/crm/sse', name: 'crm' }
    const tools = [{ type: 'mcp_toolset', mcp_server_name: 'crm', default_config: { enabled: false }, configs: { search_contacts: { enabled: true } } }]
    const message = await client().beta.messages.create({
      model: 'claude-sonnet-4-6', max_tokens: 64, mcp_servers: [server], tools, messages: user('MOCK:PII lookup'),
      context_management: { edits: [{ type: 'compact_20260112' }] }, betas: ['mcp-client-2025-11-20', 'compact-2026-01-12'],
    } as never) as unknown as { content: { type: string; content: unknown }[] }
    const types = message.content.map((block) => block.type)
    expect(types).toEqual(expect.arrayContaining(['compaction', 'mcp_tool_use', 'mcp_tool_result']))
    expect(JSON.stringify(message.content.find((b) => b.type === 'mcp_tool_result'))).toContain('[REDACTED:email]')
    expect(JSON.stringify(message.content.find((b) => b.type === 'compaction'))).toContain('[REDACTED:email]')
    expect(JSON.stringify(message)).not.toContain(MOCK_PII.email)
  })
})

describe('budgets count advisor tokens from usage.iterations', () => {
  const clientFor = async (repo: string) =>
    new Anthropic({ baseURL: stack.url, apiKey: await stack.mint({ sub: `repo:acme/${repo}:ref:refs/heads/main` }, { expiresIn: 600 }), maxRetries: 0 })
  const ask = (client: Anthropic, withAdvisor: boolean) =>
    client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 300,
      messages: user('plan the release'),
      ...(withAdvisor ? { tools: [{ type: 'advisor_20260301', name: 'advisor', model: 'claude-sonnet-4-6' }] as never } : {}),
    })

  it('two advisor calls spend a 1000-token output budget that plain calls barely touch', async () => {
    await clearOfDayBoundary()
    expect(MOCK_ADVISOR_OUTPUT_TOKENS * 2).toBeGreaterThan(1000 - 300)
    const advised = await clientFor('advised')
    const first = await ask(advised, true)
    expect((first.usage as unknown as { iterations: { type: string }[] }).iterations.map((it) => it.type)).toContain('advisor_message')
    await ask(advised, true)
    await expect(ask(advised, true)).rejects.toMatchObject({ status: 429, message: expect.stringContaining('outputTokensPerDay') })
    const plain = await clientFor('plain')
    for (let i = 0; i < 3; i++) await expect(ask(plain, false)).resolves.toMatchObject({ type: 'message' })
  })
})

describe('anthropic-version 2026-10-21 passes through', () => {
  it('SDK 1.x sends 2026-10-21, and the upstream 400 for sampling parameters comes back unmodified', async () => {
    stack.mock.reset()
    const client = new Anthropic({ baseURL: stack.url, apiKey: token, maxRetries: 0 })
    const refused = client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 16, temperature: 1, messages: user('x') } as never)
    await expect(refused).rejects.toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error', message: 'temperature: not supported with anthropic-version 2026-10-21' } } })
    expect(upstreamMessages()[0]?.headers['anthropic-version']).toBe('2026-10-21')
  })

  it('a batch created under 2026-10-21 has each entry checked upstream: the 400 naming the entry comes back unmodified', async () => {
    const requests = [
      { custom_id: 'ok', params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: user('a') } },
      { custom_id: 'warm', params: { model: 'claude-haiku-4-5', max_tokens: 16, top_p: 0.9, messages: user('b') } },
    ]
    const refused = new Anthropic({ baseURL: stack.url, apiKey: token, maxRetries: 0 }).messages.batches.create({ requests })
    await expect(refused).rejects.toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error', message: 'requests.1.params.top_p: not supported with anthropic-version 2026-10-21' } } })
    // The same batch under 2023-06-01 (SDK 0.x) is created.
    const created = await new AnthropicLegacy({ baseURL: stack.url, apiKey: token, maxRetries: 0 }).messages.batches.create({ requests })
    expect(created.id).toMatch(/^msgbatch_/)
  })

  it('SDK 0.x sends 2023-06-01 and may still set temperature', async () => {
    stack.mock.reset()
    const client = new AnthropicLegacy({ baseURL: stack.url, apiKey: token, maxRetries: 0 })
    await expect(client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 16, temperature: 1, messages: user('x') })).resolves.toMatchObject({ type: 'message' })
    expect(upstreamMessages()[0]?.headers['anthropic-version']).toBe('2023-06-01')
  })
})

describe('credentials in request bodies never reach the audit', () => {
  it('redacts authorization_token in a batch entry, and still forwards it', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: token, maxRetries: 0 })
    const server = { type: 'url', url: 'https://mcp.example.com/crm/sse', name: 'crm', authorization_token: 'mcp-credential-in-batch-42', tool_configuration: { allowed_tools: ['search_contacts'] } }
    const { response } = await client.messages.batches
      .create({ requests: [{ custom_id: 'a', params: { model: 'claude-haiku-4-5', max_tokens: 16, messages: user('a'), mcp_servers: [server] } as never }] })
      .withResponse()
    const record = await stack.gateway.audit.storage.audit.get(response.headers.get('skillgate-request-id') ?? '')
    expect(record?.request.body).toMatchObject({ requests: [{ params: { mcp_servers: [{ authorization_token: '[REDACTED:credential]' }] } }] })
    expect(JSON.stringify(record)).not.toContain('mcp-credential-in-batch-42')
    expect(stack.mock.requests.at(-1)?.body.toString()).toContain('mcp-credential-in-batch-42')
  })
})

describe('x-claude-code-session-id', () => {
  const send = async (session: string | undefined, sub = 'repo:acme/app:ref:refs/heads/main') =>
    fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stack.mint({ sub })}`,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        ...(session === undefined ? {} : { 'x-claude-code-session-id': session }),
      },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: user('hi') }),
    })

  it('is kept on the record as clientSession, listed per session, and forwarded unchanged', async () => {
    const session = crypto.randomUUID()
    stack.mock.reset()
    const ids: string[] = []
    for (let i = 0; i < 2; i++) {
      const res = await send(session)
      expect(res.status).toBe(200)
      ids.push(res.headers.get('skillgate-request-id') ?? '')
    }
    expect(upstreamMessages()[0]?.headers['x-claude-code-session-id']).toBe(session)
    const audit = stack.gateway.audit.storage.audit
    expect((await audit.get(ids[0] ?? ''))?.clientSession).toBe(session)
    const listed = await audit.list({ limit: 10, clientSession: session })
    expect(listed.records.map((r) => r.id)).toEqual([...ids].reverse())
    const record = listed.records[0]
    expect((await audit.list({ limit: 10, clientSession: session, principal: record?.principal ?? '' })).records).toHaveLength(2)
    expect((await audit.list({ limit: 10, clientSession: session, principal: 'someone-else' })).records).toHaveLength(0)
  })

  it('records no session for a value that is not an id', async () => {
    const res = await send('two ids, one header')
    expect(res.status).toBe(200)
    expect((await stack.gateway.audit.storage.audit.get(res.headers.get('skillgate-request-id') ?? ''))?.clientSession).toBeNull()
  })
})
