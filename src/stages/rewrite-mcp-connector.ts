import { GatewayError } from '../errors/gateway-error.js'
import type { Capabilities, MintedCapability } from '../mcp/capability.js'
import { rewriteServers } from '../mcp/connector-body.js'
import { planConnector, rewriteNote, type ConnectorRule, type PlannedServer } from '../mcp/connector.js'
import type { RequestContext } from '../pipeline/context.js'
import type { Stage } from '../pipeline/stage.js'
import { clientSessionOf } from './audit-facts.js'

export interface RewriteMcpConnectorOptions {
  /** Undefined when `mcp.publicUrl` is not configured: every `skillgate:` server is then refused. */
  readonly capabilities: Capabilities | undefined
  /** `rules[].mcp.connector` and `allow.mcp` of a rule id. */
  readonly rule: (ruleId: string | undefined) => ConnectorRule | undefined
  /** Whether `mcpServers[]` configures this id. */
  readonly isConfigured: (serverId: string) => boolean
  /** `mcp.capabilityTtl`: a capability expires this long after the rewrite at the latest. */
  readonly ttlMs: number
  readonly now?: () => number
}

/**
 * Claude's MCP connector through the gateway (docs/mcp-connector.md): under a rule with
 * `mcp.connector: gateway`, each `mcp_servers[]` entry of a `/v1/messages` body whose url is
 * `skillgate:{id}` is sent to `<mcp.publicUrl>/mcp/{id}` with a capability token bound to this
 * request, principal, rule and effective tools. The one documented exception to byte-for-byte
 * forwarding: only those entries change (mcp/connector-body.ts). The capabilities are revoked when
 * the request ends, however it ends. Refusals: 400 (no opt-in, a client token, a batch), 403 (a
 * server not configured or not granted). Before audit-open, so the opening records the rewritten
 * body (token redacted) and a note naming each rewrite; the record id it links to is the request id.
 */
export const rewriteMcpConnector = (options: RewriteMcpConnectorOptions): Stage => {
  if (!Number.isInteger(options.ttlMs) || options.ttlMs < 1_000) throw new TypeError('rewriteMcpConnector: ttlMs must be at least 1000')
  const now = options.now ?? Date.now
  return async function rewriteMcpConnector(ctx, next) {
    const ruleId = ctx.decision?.rule
    const plan = planConnector({ endpoint: ctx.endpoint?.name ?? 'unknown', json: ctx.json, facts: ctx.facts, ruleId, rule: options.rule(ruleId), isConfigured: options.isConfigured })
    if (plan.kind === 'none') return next()
    if (plan.kind === 'refuse') throw new GatewayError(plan.code, { publicDetail: plan.detail })
    const capabilities = options.capabilities
    if (capabilities === undefined) throw new GatewayError('GW_MCP_CONNECTOR_NOT_ENABLED', { publicDetail: 'mcp.publicUrl is not configured' })
    const minted: MintedCapability[] = []
    try {
      const tokens: string[] = []
      for (const server of plan.servers) {
        const capability = await capabilities.mint(grantOf(ctx, server, now() + options.ttlMs))
        minted.push(capability)
        tokens.push(capability.token)
      }
      applyRewrite(ctx, plan.servers, tokens, capabilities)
      ctx.mcpConnectorNote = rewriteNote(plan.servers, (id) => capabilities.serverUrl(id))
      return await next()
    } finally {
      // However the request ended (answer sent, client gone, upstream failed, refused later).
      for (const capability of minted) {
        await capabilities.revoke(capability).catch((error: unknown) => ctx.log.error({ detail: (error as Error).message }, 'MCP capability could not be revoked; it expires on its own'))
      }
    }
  }
}

function grantOf(ctx: RequestContext, server: PlannedServer, expiresAt: number) {
  const principal = ctx.decision?.principal
  const rule = ctx.decision?.rule
  if (principal === undefined || rule === undefined) throw new GatewayError('GW_INTERNAL', { detail: 'rewrite-mcp-connector ran before authorize' })
  return {
    principal,
    rule,
    serverId: server.serverId,
    tools: server.tools,
    toolExclude: server.toolExclude,
    causedBy: ctx.id,
    claims: ctx.identity?.claims ?? {},
    clientSession: clientSessionOf(ctx),
    expiresAt,
  }
}

/** The bytes spliced; the parsed copy follows them for the audit (which redacts `authorization_token`). */
function applyRewrite(ctx: RequestContext, servers: readonly PlannedServer[], tokens: readonly string[], capabilities: Capabilities): void {
  if (ctx.body === undefined || typeof ctx.json !== 'object' || ctx.json === null) throw new GatewayError('GW_INTERNAL', { detail: 'rewrite-mcp-connector without a body' })
  const edits = servers.map((server, i) => ({ index: server.index, url: capabilities.serverUrl(server.serverId), authorizationToken: tokens[i] as string }))
  ctx.body = rewriteServers(ctx.body, edits)
  const json = ctx.json as Record<string, unknown>
  const entries = [...(json.mcp_servers as unknown[])]
  for (const edit of edits) entries[edit.index] = { ...(entries[edit.index] as Record<string, unknown>), url: edit.url, authorization_token: edit.authorizationToken }
  ctx.json = { ...json, mcp_servers: entries }
}
