import Anthropic from '@anthropic-ai/sdk'
import AnthropicLegacy from 'anthropic-sdk-0x'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultRules, startStack, type Stack } from './harness.js'

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
            models: ['claude-sonnet-*', 'claude-haiku-*'],
            tools: ['client:*', 'advisor_*', 'mcp_toolset'],
            mcpServers: [{ url: 'https://mcp.example.com/crm', tools: ['search_*'] }],
          },
        },
      ]
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
