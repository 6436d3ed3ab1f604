import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors/gateway-error.js'
import type { ConnectorRule } from '../../src/mcp/connector.js'
import type { RequestContext } from '../../src/pipeline/context.js'
import { classifyEndpoint } from '../../src/policy/endpoint.js'
import { extractRequestFacts } from '../../src/policy/request-facts.js'
import { parseJsonBody } from '../../src/request/json-body.js'
import { recordedDecision, redactCredentials } from '../../src/stages/audit-facts.js'
import { rewriteMcpConnector } from '../../src/stages/rewrite-mcp-connector.js'
import { openCapabilityWorld, type CapabilityWorld } from './helpers.js'

let world: CapabilityWorld

beforeEach(async () => {
  world = await openCapabilityWorld()
})
afterEach(async () => {
  await world.close()
})

const rules: Record<string, ConnectorRule> = {
  ci: { gateway: true, grants: new Map([['github', ['search_*', 'get_issue']], ['jira', ['*']]]) },
  plain: { gateway: false, grants: new Map([['github', ['*']]]) },
}

function stage(configured: readonly string[] = ['github', 'jira']) {
  return rewriteMcpConnector({ capabilities: world.caps, rule: (id) => (id === undefined ? undefined : rules[id]), isConfigured: (id) => configured.includes(id), ttlMs: 600_000 })
}

function ctxFor(text: string, options: { path?: string; rule?: string; headers?: Record<string, string> } = {}): RequestContext {
  const body = Buffer.from(text)
  const json = parseJsonBody(body)
  const endpoint = classifyEndpoint('POST', options.path ?? '/v1/messages')
  return {
    id: '01JCONNECTORREQ',
    headers: options.headers ?? {},
    log: pino({ level: 'silent' }),
    endpoint,
    body,
    json,
    facts: extractRequestFacts(endpoint.name, json),
    identity: { issuerId: 'github', claims: { sub: 'repo:acme/app', repository: 'acme/app' }, header: { alg: 'RS256' } },
    decision: { effect: 'allow', rule: options.rule ?? 'ci', principal: 'gha:1/2', reasons: [{ code: 'rule-matched', detail: options.rule ?? 'ci' }] },
  } as unknown as RequestContext
}

const messages = (servers: string, tools = '') =>
  `{"model":"claude-opus-4-1", "max_tokens": 1024,\n "messages":[{"role":"user","content":"hi \\u00e9"}],\n "mcp_servers": ${servers}${tools === '' ? '' : `,\n "tools": ${tools}`} }`

async function refusal(ctx: RequestContext, configured?: readonly string[]): Promise<{ code: string; message: string; nextCalled: boolean }> {
  let nextCalled = false
  const error = await stage(configured)(ctx, async () => {
    nextCalled = true
  }).then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(GatewayError)
  return { code: (error as GatewayError).code, message: (error as GatewayError).message + ' ' + ((error as GatewayError).publicDetail ?? ''), nextCalled }
}

describe('rewrite-mcp-connector stage', () => {
  it('rewrites skillgate:{id} to the public URL with a capability for the effective tools; the rest of the bytes as sent', async () => {
    const text = messages(
      '[{"type":"url","url":"https://direct.example/mcp","name":"direct"}, {"type":"url","url":"skillgate:github","name":"gh"}]',
      '[{"type":"mcp_toolset","mcp_server_name":"gh","default_config":{"enabled":false},"configs":{"search_code":{"enabled":true},"get_issue":{"enabled":true},"list_prs":{},"delete_repo":{"enabled":true}}}]',
    )
    const ctx = ctxFor(text, { headers: { 'x-claude-code-session-id': 'sess-7' } })
    let seen: { body: Buffer; token: string } | undefined
    await stage()(ctx, async () => {
      const sent = JSON.parse((ctx.body as Buffer).toString()) as { mcp_servers: Array<Record<string, string>> }
      const token = sent.mcp_servers[1]?.authorization_token as string
      seen = { body: ctx.body as Buffer, token }
      // While the request lasts, the token works at that server only, for the granted, enabled tools.
      const caller = await world.caps.authenticator()(token, 'github')
      expect(caller).toMatchObject({ principal: 'gha:1/2', ruleName: 'ci', causedBy: '01JCONNECTORREQ', clientSession: 'sess-7', claims: { repository: 'acme/app' } })
      expect([...(caller?.toolLimit ?? [])].sort()).toEqual(['get_issue', 'search_code'])
      expect(sent.mcp_servers[1]?.url).toBe('https://gw.example/mcp/github')
    })
    expect(seen).toBeDefined()
    const { body, token } = seen as { body: Buffer; token: string }
    const restored = body.toString().replace(`,"authorization_token":${JSON.stringify(token)}`, '').replace('"https://gw.example/mcp/github"', '"skillgate:github"')
    expect(restored).toBe(text)
    // The audit keeps the rewritten body with the token redacted, and notes the rewrite.
    expect(JSON.stringify(redactCredentials(ctx.json, new Set(['authorization_token'])))).not.toContain(token)
    expect(ctx.mcpConnectorNote).toBe('skillgate:github → https://gw.example/mcp/github (tools: search_code, get_issue)')
    const recorded = recordedDecision(ctx, ctx.decision as never)
    expect(recorded.reasons.at(-1)).toEqual({ code: 'mcp-connector-rewritten', detail: ctx.mcpConnectorNote })
    // The request ended: refused from now on.
    await expect(world.caps.authenticator()(token, 'github')).rejects.toMatchObject({ code: 'GW_AUTHN_REVOKED' })
  })

  it('revokes the capability when the rest of the pipeline fails', async () => {
    const ctx = ctxFor(messages('[{"type":"url","url":"skillgate:jira","name":"j"}]'))
    let token = ''
    await expect(
      stage()(ctx, async () => {
        token = (JSON.parse((ctx.body as Buffer).toString()) as { mcp_servers: Array<Record<string, string>> }).mcp_servers[0]?.authorization_token as string
        throw new GatewayError('GW_UPSTREAM_UNREACHABLE')
      }),
    ).rejects.toMatchObject({ code: 'GW_UPSTREAM_UNREACHABLE' })
    expect(token.startsWith('sgcap.')).toBe(true)
    await expect(world.caps.authenticator()(token, 'jira')).rejects.toMatchObject({ code: 'GW_AUTHN_REVOKED' })
  })

  it('an open toolset under a wildcard grant carries no tool limit (the rule bounds it at /mcp/{id})', async () => {
    const ctx = ctxFor(messages('[{"type":"url","url":"skillgate:jira","name":"j"}]', '[{"type":"mcp_toolset","mcp_server_name":"j"}]'))
    await stage()(ctx, async () => {
      const token = (JSON.parse((ctx.body as Buffer).toString()) as { mcp_servers: Array<Record<string, string>> }).mcp_servers[0]?.authorization_token as string
      expect((await world.caps.authenticator()(token, 'jira'))?.toolLimit).toBeUndefined()
      await expect(world.caps.authenticator()(token, 'github')).rejects.toMatchObject({ code: 'GW_MCP_CAPABILITY_WRONG_SERVER' })
    })
  })

  it('leaves a body without skillgate: servers alone (the same buffer)', async () => {
    const ctx = ctxFor(messages('[{"type":"url","url":"https://direct.example/mcp","name":"d","authorization_token":"client"}]'))
    const before = ctx.body
    let called = false
    await stage()(ctx, async () => {
      called = true
    })
    expect(called).toBe(true)
    expect(ctx.body).toBe(before)
    expect(ctx.mcpConnectorNote).toBeUndefined()
  })

  it('400 under a rule without the opt-in, naming it', async () => {
    const r = await refusal(ctxFor(messages('[{"type":"url","url":"skillgate:github","name":"gh"}]'), { rule: 'plain' }))
    expect(r).toMatchObject({ code: 'GW_MCP_CONNECTOR_NOT_ENABLED', nextCalled: false })
    expect(r.message).toMatch(/mcp\.connector: gateway.*rule plain/)
  })

  it('400 for a client-supplied authorization_token on a skillgate: server', async () => {
    const r = await refusal(ctxFor(messages('[{"type":"url","url":"skillgate:github","name":"gh","authorization_token":"ghp_x"}]')))
    expect(r).toMatchObject({ code: 'GW_MCP_CONNECTOR_TOKEN_SUPPLIED', nextCalled: false })
    expect(r.message).not.toContain('ghp_x')
  })

  it('400 in a batch, and in count_tokens', async () => {
    const batch = `{"requests":[{"custom_id":"a","params":${messages('[{"type":"url","url":"skillgate:github","name":"gh"}]')}}]}`
    const r = await refusal(ctxFor(batch, { path: '/v1/messages/batches' }))
    expect(r).toMatchObject({ code: 'GW_MCP_CONNECTOR_UNSUPPORTED', nextCalled: false })
    expect(r.message).toMatch(/message batch \(requests\[0\]\)/)
    const count = await refusal(ctxFor(messages('[{"type":"url","url":"skillgate:github","name":"gh"}]'), { path: '/v1/messages/count_tokens' }))
    expect(count.code).toBe('GW_MCP_CONNECTOR_UNSUPPORTED')
  })

  it('403 for a server the rule does not grant, one not configured, or a malformed id', async () => {
    expect((await refusal(ctxFor(messages('[{"type":"url","url":"skillgate:slack","name":"s"}]')))).code).toBe('GW_MCP_CONNECTOR_SERVER_DENIED')
    expect((await refusal(ctxFor(messages('[{"type":"url","url":"skillgate:jira","name":"j"}]')), ['github'])).code).toBe('GW_MCP_CONNECTOR_SERVER_DENIED')
    expect((await refusal(ctxFor(messages('[{"type":"url","url":"skillgate:../admin","name":"x"}]')))).code).toBe('GW_MCP_CONNECTOR_SERVER_DENIED')
  })

  it('400 past 16 skillgate: servers in one request', async () => {
    const servers = Array.from({ length: 17 }, (_, i) => ({ type: 'url', url: 'skillgate:github', name: `gh${i}` }))
    const r = await refusal(ctxFor(messages(JSON.stringify(servers))))
    expect(r.code).toBe('GW_MCP_CONNECTOR_UNSUPPORTED')
    expect(r.message).toMatch(/at most 16/)
  })

  it('mints nothing when one of several servers is refused', async () => {
    const ctx = ctxFor(messages('[{"type":"url","url":"skillgate:github","name":"gh"},{"type":"url","url":"skillgate:slack","name":"s"}]'))
    const before = await world.storage.revocations.version()
    expect((await refusal(ctx)).code).toBe('GW_MCP_CONNECTOR_SERVER_DENIED')
    expect(await world.storage.revocations.version()).toBe(before)
  })
})
