/**
 * What the connector rewrite does with one request (docs/mcp-connector.md), decided from the parsed
 * body and the policy facts only: nothing, a refusal, or which `mcp_servers[]` entries to rewrite
 * with which effective tool set. Pure; the stage (stages/rewrite-mcp-connector.ts) mints and splices.
 */
import type { GatewayErrorCode } from '../errors/codes.js'
import { gatewayServerId, GATEWAY_SERVER_SCHEME } from '../policy/criteria/mcp-server.js'
import { isObject, listOf } from '../policy/facts/json.js'
import { compileGlob } from '../policy/glob.js'
import type { EnabledTools, RequestFacts } from '../policy/request-facts.js'

/** A rule as the rewrite reads it: its opt-in and its `allow.mcp` tool globs by server id. */
export interface ConnectorRule {
  readonly gateway: boolean
  readonly grants: ReadonlyMap<string, readonly string[]>
}

export interface PlannedServer {
  /** Index in the body's `mcp_servers`. */
  readonly index: number
  readonly serverId: string
  /** The effective tool names; undefined when the set stays open (bounded by the rule's globs at `/mcp/{id}`). */
  readonly tools: readonly string[] | undefined
  /** With an open set: the tools the request turned off, refused at `/mcp/{id}` even if the rule's globs grant them. */
  readonly toolExclude?: readonly string[] | undefined
}

export type ConnectorPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'refuse'; readonly code: GatewayErrorCode; readonly detail: string }
  | { readonly kind: 'rewrite'; readonly servers: readonly PlannedServer[] }

export interface PlanInput {
  readonly endpoint: string
  readonly json: unknown
  readonly facts: RequestFacts | undefined
  readonly ruleId: string | undefined
  readonly rule: ConnectorRule | undefined
  /** Whether `mcpServers[]` configures this id. */
  readonly isConfigured: (serverId: string) => boolean
}

const none: ConnectorPlan = { kind: 'none' }
/** Each rewritten server costs a signature now and a revocation write when the request ends. */
export const MAX_GATEWAY_SERVERS = 16

/**
 * Refusals, in this order: a `skillgate:` server outside a plain Messages call (a batch entry runs
 * after its request ended; count_tokens and Managed Agents never reach the rewrite), a rule without
 * the opt-in, a client-supplied `authorization_token`, an id that is malformed, not configured or
 * not granted by the rule's `allow.mcp`.
 */
export function planConnector(input: PlanInput): ConnectorPlan {
  const bodies = input.facts?.bodies ?? []
  const uses = bodies.flatMap((body) => body.mcpServers.filter((server) => gatewayServerId(server.url) !== undefined).map((server) => ({ body, server })))
  const first = uses[0]
  if (first === undefined) return none
  if (input.endpoint !== 'messages' || first.body.at !== '') {
    const where = input.endpoint === 'batches' ? 'a message batch' : `the ${input.endpoint} endpoint`
    return { kind: 'refuse', code: 'GW_MCP_CONNECTOR_UNSUPPORTED', detail: `${GATEWAY_SERVER_SCHEME} server in ${where}${first.body.at === '' ? '' : ` (${first.body.at})`}` }
  }
  if (input.rule === undefined || !input.rule.gateway) {
    return { kind: 'refuse', code: 'GW_MCP_CONNECTOR_NOT_ENABLED', detail: `rule ${input.ruleId ?? '(none)'}` }
  }
  if (uses.length > MAX_GATEWAY_SERVERS) return { kind: 'refuse', code: 'GW_MCP_CONNECTOR_UNSUPPORTED', detail: `at most ${MAX_GATEWAY_SERVERS} ${GATEWAY_SERVER_SCHEME} servers in one request` }
  const entries = isObject(input.json) ? listOf(input.json.mcp_servers) : []
  const servers: PlannedServer[] = []
  for (const [index, server] of (bodies[0]?.mcpServers ?? []).entries()) {
    const serverId = gatewayServerId(server.url)
    if (serverId === undefined) continue
    const entry = entries[index]
    if (isObject(entry) && Object.hasOwn(entry, 'authorization_token')) return { kind: 'refuse', code: 'GW_MCP_CONNECTOR_TOKEN_SUPPLIED', detail: `mcp_servers[${index}]` }
    if (serverId === '') return { kind: 'refuse', code: 'GW_MCP_CONNECTOR_SERVER_DENIED', detail: `mcp_servers[${index}].url is not skillgate:{id}` }
    const globs = input.rule.grants.get(serverId)
    if (globs === undefined || !input.isConfigured(serverId)) return { kind: 'refuse', code: 'GW_MCP_CONNECTOR_SERVER_DENIED', detail: `${GATEWAY_SERVER_SCHEME}${serverId}` }
    const tools = effectiveTools(server.enabled, globs)
    const toolExclude = tools === undefined && server.enabled.all ? excludedTools(server.enabled.except) : undefined
    servers.push({ index, serverId, tools, ...(toolExclude === undefined ? {} : { toolExclude }) })
  }
  return { kind: 'rewrite', servers }
}

/**
 * The tools a request enables on a server ∩ the rule's globs. A named set is cut to the names the
 * globs match. An open set ("every tool", minus some) is exact only when the globs are plain names;
 * with a wildcard the gateway cannot list the server's tools here, so the set stays open and the
 * endpoint bounds it by the rule's globs; the tools the request turned off then travel as the
 * capability's exclusion list (planConnector), so the gateway refuses them too.
 */
export function effectiveTools(enabled: EnabledTools, globs: readonly string[]): string[] | undefined {
  const matchers = globs.map(compileGlob)
  if (!enabled.all) return [...new Set(enabled.names.filter((name) => name !== '' && matchers.some((match) => match(name))))]
  if (globs.every((glob) => !glob.includes('*'))) return [...new Set(globs.filter((name) => !enabled.except.includes(name)))]
  return undefined
}

/** An open set's turned-off names (an exact set needs none: they are already left out of it). */
function excludedTools(except: readonly string[]): readonly string[] | undefined {
  const names = [...new Set(except.filter((name) => name !== ''))]
  return names.length === 0 ? undefined : names
}

/** The rewrite as the audit notes it: `skillgate:{id} → URL` per server; never the token. */
export function rewriteNote(servers: readonly PlannedServer[], serverUrl: (serverId: string) => string): string {
  return servers
    .map((server) => `${GATEWAY_SERVER_SCHEME}${server.serverId} → ${serverUrl(server.serverId)} (${server.tools === undefined ? 'tools: the rule\'s' : `tools: ${server.tools.join(', ') || 'none'}`}${server.toolExclude === undefined ? '' : `; turned off: ${server.toolExclude.join(', ')}`})`)
    .join('; ')
}
