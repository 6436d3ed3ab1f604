import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { runOwnersCommand } from '../../src/cli/commands/owners.js'
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
/** The same rule as `agents`, another repository: another principal. */
let otherAgents: Anthropic
const ADMIN_TOKEN = 'agents-admin-token-abcdefghijklmnop'

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
          endpoints: ['agents.read', 'agents.manage', 'environments', 'sessions', 'deployments', 'vaults', 'memory_stores'],
          models: ['claude-sonnet-*'],
          tools: ['agent_toolset_*', 'mcp_toolset'],
          mcpServers: [{ url: 'https://mcp.example.com/crm', tools: ['search_*'] }],
        }),
        rule('ops', 'repo:acme/ops:*', { endpoints: ['vaults', 'tunnels'] }),
        rule('chat', 'repo:acme/app:*', { endpoints: ['messages'], models: ['*'] }),
      ]
      config.masking = { profiles: { pii: { detectors: ['email'] } }, requests: { block: ['aws-access-key'] } }
      ;(config.rules as Array<Record<string, unknown>>)[0]!.masking = ['pii']
      config.admin = { tokens: [{ secret: { value: ADMIN_TOKEN }, roles: ['admin'] }] }
    },
  })
  const client = async (sub: string, repositoryId = '42') => new Anthropic({ baseURL: stack.url, apiKey: await stack.mint({ sub, repository_id: repositoryId }, { expiresIn: 600 }), maxRetries: 0 })
  agents = await client('repo:acme/agents:ref:refs/heads/main')
  otherAgents = await client('repo:acme/agents:ref:refs/heads/main', '43')
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
    const agent = await agents.beta.agents.create({ name: 'plain', model: 'claude-sonnet-4-6' } as never)
    const session = await agents.beta.sessions.create({ agent: agent.id, environment_id: env.id } as never)
    expect(session.id).toMatch(/^sesn_/)
  })

  it('grants each family on its own: tunnels are not the agents rule\'s, vaults and agents are not the messages rule\'s', async () => {
    await expect(messagesOnly.beta.vaults.create({ display_name: 'v' } as never)).rejects.toMatchObject({ status: 403, message: expect.stringContaining('endpoint vaults is not in allow.endpoints') })
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

/** The refusal's audit record: the SDK's error carries the gateway's request id header. */
const refusalOf = async (call: Promise<unknown>) => {
  const error = await call.then(
    () => expect.fail('expected a refusal'),
    (e: unknown) => e as InstanceType<typeof Anthropic.APIError>,
  )
  const record = await stack.gateway.audit.storage.audit.get(error.headers?.get('skillgate-request-id') ?? '')
  return { error, record }
}

describe('Managed Agents objects belong to the principal that created them', () => {
  it('another principal under the same rule gets 404 for an agent, and its list leaves it out', async () => {
    const agent = await agents.beta.agents.create({ name: 'mine', model: 'claude-sonnet-4-6' } as never)
    stack.mock.reset()
    const { error, record } = await refusalOf(otherAgents.beta.agents.retrieve(agent.id))
    expect(error).toMatchObject({ status: 404, error: { error: { type: 'not_found_error', message: `not found: agent ${agent.id}` } } })
    expect(record).toMatchObject({ decision: 'deny', error: 'GW_OBJECT_NOT_FOUND', principal: 'agents:43' })
    expect(record?.reasons.at(-1)).toEqual({ code: 'object-not-owned', detail: `agent ${agent.id}` })
    await expect(otherAgents.beta.agents.update(agent.id, { version: 1, description: 'mine now' } as never)).rejects.toMatchObject({ status: 404 })
    await expect(otherAgents.beta.agents.archive(agent.id)).rejects.toMatchObject({ status: 404 })
    expect(upstream(`/v1/agents/${agent.id}`)).toHaveLength(0)
    expect((await agents.beta.agents.retrieve(agent.id)).id).toBe(agent.id)
    const theirs = await otherAgents.beta.agents.create({ name: 'theirs', model: 'claude-sonnet-4-6' } as never)
    const mine = (await agents.beta.agents.list()).data.map((a) => a.id)
    expect(mine).toContain(agent.id)
    expect(mine).not.toContain(theirs.id)
    expect((await otherAgents.beta.agents.list()).data.map((a) => a.id)).toEqual([theirs.id])
  })

  it('an agent id never seen by the gateway is 404 to everyone, with the reason in the audit', async () => {
    const { error, record } = await refusalOf(agents.beta.agents.retrieve('agent_made_elsewhere'))
    expect(error.status).toBe(404)
    expect(record?.reasons.at(-1)).toEqual({ code: 'object-owner-unknown', detail: 'agent agent_made_elsewhere' })
  })

  it('refuses a session citing another principal\'s agent, environment, vault or memory store, before anything goes upstream', async () => {
    const [agent, env, vault] = await Promise.all([
      agents.beta.agents.create({ name: 'a', model: 'claude-sonnet-4-6' } as never),
      agents.beta.environments.create({ name: 'e' } as never),
      agents.beta.vaults.create({ display_name: 'v' } as never),
    ])
    const memory = await agents.beta.memoryStores.create({ name: 'm' } as never)
    const [ownAgent, ownEnv] = await Promise.all([otherAgents.beta.agents.create({ name: 'b', model: 'claude-sonnet-4-6' } as never), otherAgents.beta.environments.create({ name: 'f' } as never)])
    stack.mock.reset()
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ agent: agent.id, environment_id: ownEnv.id }, `agent ${agent.id} in agent`],
      [{ agent: { type: 'agent', id: agent.id, version: 1 }, environment_id: ownEnv.id }, `agent ${agent.id} in agent`],
      [{ agent: ownAgent.id, environment_id: env.id }, `environment ${env.id} in environment_id`],
      [{ agent: ownAgent.id, environment_id: ownEnv.id, vault_ids: [vault.id] }, `vault ${vault.id} in vault_ids[0]`],
      [{ agent: ownAgent.id, environment_id: ownEnv.id, resources: [{ type: 'memory_store', memory_store_id: memory.id }] }, `memory store ${memory.id} in resources[0].memory_store_id`],
    ]
    for (const [body, detail] of cases) {
      const { error, record } = await refusalOf(otherAgents.beta.sessions.create(body as never))
      expect(error.status).toBe(404)
      expect(record?.reasons.at(-1)).toEqual({ code: 'object-not-owned', detail })
    }
    expect(upstream('/v1/sessions')).toHaveLength(0)
    // The owner may cite all of them.
    const session = await agents.beta.sessions.create({ agent: agent.id, environment_id: env.id, vault_ids: [vault.id], resources: [{ type: 'memory_store', memory_store_id: memory.id }] } as never)
    expect(session.id).toMatch(/^sesn_/)
  })

  it('a deployment run and the session it starts are the runner\'s', async () => {
    const agent = await agents.beta.agents.create({ name: 'nightly', model: 'claude-sonnet-4-6' } as never)
    const env = await agents.beta.environments.create({ name: 'n' } as never)
    await expect(otherAgents.beta.deployments.create({ name: 'steal', agent: agent.id, environment_id: env.id, initial_events: [] } as never)).rejects.toMatchObject({ status: 404 })
    const deployment = await agents.beta.deployments.create({ name: 'nightly', agent: agent.id, environment_id: env.id, initial_events: [] } as never)
    await expect(otherAgents.beta.deployments.run(deployment.id)).rejects.toMatchObject({ status: 404 })
    const run = await agents.beta.deployments.run(deployment.id)
    expect((await agents.beta.deploymentRuns.retrieve(run.id)).id).toBe(run.id)
    expect((await agents.beta.sessions.retrieve(run.session_id ?? '')).id).toBe(run.session_id)
    await expect(otherAgents.beta.deploymentRuns.retrieve(run.id)).rejects.toMatchObject({ status: 404 })
    await expect(otherAgents.beta.sessions.retrieve(run.session_id ?? '')).rejects.toMatchObject({ status: 404 })
    expect((await otherAgents.beta.deploymentRuns.list()).data).toEqual([])
  })

  it('skillgate owners assign gives an agent made elsewhere to its principal', async () => {
    const made = await fetch(`${stack.mock.url}/v1/agents`, {
      method: 'POST',
      headers: { 'x-api-key': stack.mock.apiKey, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'managed-agents-2026-04-01', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'legacy', model: 'claude-sonnet-4-6' }),
    })
    const { id } = (await made.json()) as { id: string }
    await expect(agents.beta.agents.retrieve(id)).rejects.toMatchObject({ status: 404 })
    vi.stubEnv('SKILLGATE_URL', stack.url)
    vi.stubEnv('SKILLGATE_ADMIN_TOKEN', ADMIN_TOKEN)
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    try {
      expect(await runOwnersCommand(['assign', 'agent', id, 'agents:42', '--reason', 'created before the gateway'])).toBe(0)
    } finally {
      out.mockRestore()
      vi.unstubAllEnvs()
    }
    expect((await agents.beta.agents.retrieve(id)).id).toBe(id)
    await expect(otherAgents.beta.agents.retrieve(id)).rejects.toMatchObject({ status: 404 })
  })
})

describe('session events', () => {
  const setUp = async () => {
    const agent = await agents.beta.agents.create({ name: 'chat', model: 'claude-sonnet-4-6' } as never)
    const env = await agents.beta.environments.create({ name: 'c' } as never)
    return agents.beta.sessions.create({ agent: agent.id, environment_id: env.id } as never)
  }

  it('sends user messages, tool confirmations and custom tool results through the SDK, audited masked', async () => {
    const session = await setUp()
    const { data, response } = await agents.beta.sessions.events
      .send(session.id, {
        events: [
          { type: 'user.message', content: [{ type: 'text', text: 'mail the report to jane.doe@example.com' }] },
          { type: 'user.tool_confirmation', tool_use_id: 'sevt_01', result: 'deny', deny_message: 'ask ops@example.com first' },
          { type: 'user.custom_tool_result', custom_tool_use_id: 'sevt_02', content: [{ type: 'text', text: 'done' }] },
        ],
      } as never)
      .withResponse()
    expect(data.data?.map((e) => e.type)).toEqual(['user.message', 'user.tool_confirmation', 'user.custom_tool_result'])
    // Upstream receives the events unchanged; the audit keeps them masked.
    expect(JSON.stringify(upstream(`/v1/sessions/${session.id}/events`).at(-1)?.json)).toContain('jane.doe@example.com')
    const record = await auditOf(response)
    expect(record).toMatchObject({ endpoint: 'sessions', decision: 'allow' })
    expect(JSON.stringify(record.request.body)).not.toContain('@example.com')
    expect(record.request.body).toMatchObject({ events: [{ type: 'user.message' }, { type: 'user.tool_confirmation', tool_use_id: 'sevt_01' }, { type: 'user.custom_tool_result' }] })
    const listed = await agents.beta.sessions.events.list(session.id)
    expect(listed.data.map((e) => e.type)).toEqual(['user.message', 'user.tool_confirmation', 'user.custom_tool_result'])
  })

  it('refuses an event carrying a secret with 400, before anything goes upstream', async () => {
    const session = await setUp()
    stack.mock.reset()
    const sent = agents.beta.sessions.events.send(session.id, { events: [{ type: 'user.message', content: [{ type: 'text', text: 'key AKIAIOSFODNN7EXAMPLE' }] }] } as never)
    await expect(sent).rejects.toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error', message: expect.stringContaining('aws-access-key at events[0].content[0].text') } } })
    expect(upstream('/v1/sessions')).toHaveLength(0)
  })

  it('checks a model an event names against allow.models', async () => {
    const session = await setUp()
    const sent = agents.beta.sessions.events.send(session.id, { events: [{ type: 'user.model_override', model: 'claude-opus-5-5' }] } as never)
    await expect(sent).rejects.toMatchObject({ status: 403, message: expect.stringContaining('claude-opus-5-5 (events[0].model)') })
  })

  it('another principal can neither send to a session nor read its events; a file an event cites must be the caller\'s', async () => {
    const session = await setUp()
    stack.mock.reset()
    await expect(otherAgents.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] } as never)).rejects.toMatchObject({ status: 404 })
    await expect(otherAgents.beta.sessions.events.list(session.id)).rejects.toMatchObject({ status: 404 })
    const cites = agents.beta.sessions.events.send(session.id, { events: [{ type: 'user.message', content: [{ type: 'document', source: { type: 'file', file_id: 'file_someone_elses' } }] }] } as never)
    const { error, record } = await refusalOf(cites)
    expect(error.status).toBe(404)
    expect(record?.reasons.at(-1)).toEqual({ code: 'object-owner-unknown', detail: 'file file_someone_elses in events[0].content[0].source' })
    expect(upstream('/v1/sessions')).toHaveLength(0)
  })
})

describe('memories', () => {
  it('are guarded and audited masked like what a client tells Claude, and only the store\'s owner writes them', async () => {
    const store = await agents.beta.memoryStores.create({ name: 'notes' } as never)
    const { data, response } = await agents.beta.memoryStores.memories.create(store.id, { path: '/contacts.md', content: 'escalate to jane.doe@example.com' } as never).withResponse()
    expect(data).toMatchObject({ type: 'memory', memory_store_id: store.id })
    const record = await auditOf(response)
    expect(record).toMatchObject({ endpoint: 'memory_stores', decision: 'allow', request: { body: { path: '/contacts.md' } } })
    expect(JSON.stringify(record.request.body)).not.toContain('@example.com')
    stack.mock.reset()
    const secret = agents.beta.memoryStores.memories.create(store.id, { path: '/keys.md', content: 'AKIAIOSFODNN7EXAMPLE' } as never)
    await expect(secret).rejects.toMatchObject({ status: 400, message: expect.stringContaining('aws-access-key at content') })
    await expect(otherAgents.beta.memoryStores.memories.create(store.id, { path: '/x.md', content: 'x' } as never)).rejects.toMatchObject({ status: 404 })
    await expect(otherAgents.beta.memoryStores.memories.list(store.id)).rejects.toMatchObject({ status: 404 })
    expect(upstream('/v1/memory_stores')).toHaveLength(0)
  })
})
