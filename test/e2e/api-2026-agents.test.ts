import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MOCK_TUNNEL_TOKEN_PREFIX } from '../../src/mock-upstream/managed-agents.js'
import { startStack, type Stack } from './harness.js'

/**
 * Managed Agents through the official SDK 1.x (`client.beta.*`, its own beta headers): each family
 * is its own grant, models and MCP tools in agent and session bodies are checked before anything
 * goes upstream, credentials never reach the audit.
 */
let stack: Stack
let agents: Anthropic
let ops: Anthropic
let messagesOnly: Anthropic

const rule = (id: string, subject: string, allow: Record<string, unknown>) => ({
  id,
  issuer: 'ci',
  match: { subject, claims: { repository_owner_id: '1234567' } },
  principal: `${id}:{repository_id}`,
  allow,
})

beforeAll(async () => {
  stack = await startStack({
    configure(config) {
      config.rules = [
        rule('agents', 'repo:acme/agents:*', {
          endpoints: ['agents.read', 'agents.manage', 'environments', 'sessions'],
          models: ['claude-sonnet-*'],
          tools: ['agent_toolset_*', 'mcp_toolset'],
          mcpServers: [{ url: 'https://mcp.example.com/crm', tools: ['search_*'] }],
        }),
        rule('ops', 'repo:acme/ops:*', { endpoints: ['vaults', 'tunnels'] }),
        rule('chat', 'repo:acme/app:*', { endpoints: ['messages'], models: ['*'] }),
      ]
    },
  })
  const client = async (sub: string) => new Anthropic({ baseURL: stack.url, apiKey: await stack.mint({ sub }, { expiresIn: 600 }), maxRetries: 0 })
  agents = await client('repo:acme/agents:ref:refs/heads/main')
  ops = await client('repo:acme/ops:ref:refs/heads/main')
  messagesOnly = await client('repo:acme/app:ref:refs/heads/main')
})
afterAll(async () => {
  await stack.close()
})

const upstream = (path: string) => stack.mock.requests.filter((r) => r.path.startsWith(path))
const auditOf = async (response: Response) => {
  const record = await stack.gateway.audit.storage.audit.get(response.headers.get('skillgate-request-id') ?? '')
  if (!record) throw new Error('no audit record')
  return record
}

describe('Managed Agents, SDK 1.x', () => {
  it('creates, lists and updates an agent with a granted model, tools and MCP tools', async () => {
    const agent = await agents.beta.agents.create({
      name: 'triage',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'agent_toolset_20260401' }, { type: 'mcp_toolset', mcp_server_name: 'crm', default_config: { enabled: false }, configs: { search_contacts: { enabled: true } } }],
      mcp_servers: [{ type: 'url', name: 'crm', url: 'https://mcp.example.com/crm/mcp' }],
    } as never)
    expect(agent.id).toMatch(/^agent_/)
    const listed = await agents.beta.agents.list()
    expect(listed.data.map((a) => a.id)).toContain(agent.id)
    await expect(agents.beta.agents.update(agent.id, { version: 1, model: 'claude-opus-5-5' } as never)).rejects.toMatchObject({ status: 403, message: expect.stringContaining('claude-opus-5-5 (model)') })
  })

  it('refuses an agent whose model, roster advisor or MCP tool set is not granted, before anything goes upstream', async () => {
    stack.mock.reset()
    await expect(agents.beta.agents.create({ name: 'big', model: { id: 'claude-opus-5-5' } } as never)).rejects.toMatchObject({ status: 403, error: { error: { type: 'permission_error' } } })
    const roster = agents.beta.agents.create({ name: 'lead', model: 'claude-sonnet-4-6', multiagent: { type: 'coordinator', roster: [{ type: 'advisor', model: 'claude-opus-5-5' }] } } as never)
    await expect(roster).rejects.toMatchObject({ status: 403, message: expect.stringContaining('claude-opus-5-5 (multiagent.roster[0].model)') })
    const open = agents.beta.agents.create({
      name: 'crm',
      model: 'claude-sonnet-4-6',
      tools: [{ type: 'mcp_toolset', mcp_server_name: 'crm' }],
      mcp_servers: [{ type: 'url', name: 'crm', url: 'https://mcp.example.com/crm/mcp' }],
    } as never)
    await expect(open).rejects.toMatchObject({ status: 403, message: expect.stringContaining('every tool') })
    expect(upstream('/v1/agents')).toHaveLength(0)
  })

  it('refuses a session overriding the agent model with an ungranted one; a plain session runs', async () => {
    const env = await agents.beta.environments.create({ name: 'ci' } as never)
    const overridden = agents.beta.sessions.create({ agent: { type: 'agent_with_overrides', id: 'agent_01', model: 'claude-opus-5-5' }, environment_id: env.id } as never)
    await expect(overridden).rejects.toMatchObject({ status: 403, message: expect.stringContaining('claude-opus-5-5 (agent.model)') })
    const session = await agents.beta.sessions.create({ agent: 'agent_01', environment_id: env.id } as never)
    expect(session.id).toMatch(/^sesn_/)
  })

  it('grants each family on its own: vaults and tunnels are not the agents rule\'s, agents are not the messages rule\'s', async () => {
    await expect(agents.beta.vaults.create({ display_name: 'v' } as never)).rejects.toMatchObject({ status: 403, message: expect.stringContaining('endpoint vaults is not in allow.endpoints') })
    await expect(agents.beta.tunnels.create({ name: 't' } as never)).rejects.toMatchObject({ status: 403 })
    await expect(messagesOnly.beta.agents.list()).rejects.toMatchObject({ status: 403, message: expect.stringContaining('agents.read') })
    await expect(ops.beta.agents.list()).rejects.toMatchObject({ status: 403 })
  })

  it('reveals a tunnel token to a rule granting tunnels, and audits it redacted', async () => {
    const tunnel = await ops.beta.tunnels.create({ name: 'office' } as never)
    const { data, response } = await ops.beta.tunnels.revealToken(tunnel.id).withResponse()
    expect(data.tunnel_token).toBe(`${MOCK_TUNNEL_TOKEN_PREFIX}${tunnel.id}`)
    const record = await auditOf(response)
    expect(record).toMatchObject({ endpoint: 'tunnels', decision: 'allow', response: { kind: 'json', body: { type: 'tunnel_token', tunnel_token: '[REDACTED:credential]' } } })
    expect(JSON.stringify(record)).not.toContain(MOCK_TUNNEL_TOKEN_PREFIX)
  })

  it('keeps vault credentials out of the audit', async () => {
    const vault = await ops.beta.vaults.create({ display_name: 'crm' } as never)
    const { response } = await ops.beta.vaults.credentials.create(vault.id, { display_name: 'crm', auth: { type: 'static_bearer', token: 'vault-secret-value-123' } } as never).withResponse()
    const record = await auditOf(response)
    expect(record.endpoint).toBe('vaults')
    expect(JSON.stringify(record)).not.toContain('vault-secret-value-123')
  })
})
