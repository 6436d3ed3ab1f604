import { compileCondition, evaluateCondition, type CompiledCondition } from '../policy/cel.js'
import { compileGlob } from '../policy/glob.js'
import type { McpCaller } from './caller.js'

/** The bindings an `allow.mcp.<id>.condition` reads besides `claims` and `token`. */
export const toolConditionBindings = ['tool', 'arguments'] as const

/** What `allow.mcp.<id>` of one rule says, as the config layer parses it. */
export interface McpGrantConfig {
  readonly tools: readonly string[]
  readonly condition?: string | undefined
}

/** The part of a rule MCP reads: its id, `allow.mcp` and `approval.mcpTools`. */
export interface McpRuleInput {
  readonly id: string
  readonly allow?: { readonly mcp?: Readonly<Record<string, McpGrantConfig>> | undefined } | undefined
  readonly approval?: { readonly mcpTools?: readonly string[] | undefined } | undefined
}

export type ToolVerdict = { readonly ok: true } | { readonly ok: false; readonly message: string }

/**
 * Per-tool policy of `/mcp/{id}`, compiled once per configuration. Pure: no I/O, no HTTP; the endpoint
 * asks it which listed tools to show and whether a call may go upstream. Everything not granted is
 * refused, and every refusal names the rule (issue #19: the client must know what to ask for).
 */
export interface ToolPolicy {
  /** Whether the rule grants anything on this server (else the endpoint is a 403 for the caller). */
  grantsServer(rule: string, serverId: string): boolean
  /** Listing: the tool name is granted, inside the caller's tool limit and not excluded (the condition is not run: no arguments yet). */
  lists(caller: McpCaller, serverId: string, tool: string): boolean
  /** A call: name granted, inside the tool limit, not excluded, and the rule's condition true over claims, tool and arguments. */
  call(caller: McpCaller, serverId: string, tool: string, args: Readonly<Record<string, unknown>>): ToolVerdict
  /** Whether a call of this tool needs a human (`approval.mcpTools`, "<server>/<tool glob>"). */
  needsApproval(rule: string, serverId: string, tool: string): boolean
}

interface CompiledGrant {
  readonly tools: readonly ((name: string) => boolean)[]
  readonly condition?: CompiledCondition | undefined
}

export class ToolPolicyError extends Error {}

/** @example compileToolPolicy(config.rules).call(caller, 'github', 'list_issues', { repo: 'x' }) */
export function compileToolPolicy(rules: readonly McpRuleInput[]): ToolPolicy {
  const grants = new Map<string, Map<string, CompiledGrant>>()
  const approvals = new Map<string, readonly ((qualified: string) => boolean)[]>()
  for (const rule of rules) {
    const byServer = new Map<string, CompiledGrant>()
    for (const [serverId, grant] of Object.entries(rule.allow?.mcp ?? {})) {
      byServer.set(serverId, { tools: grant.tools.map(compileGlob), condition: grant.condition === undefined ? undefined : compileToolCondition(grant.condition, rule.id, serverId) })
    }
    grants.set(rule.id, byServer)
    approvals.set(rule.id, (rule.approval?.mcpTools ?? []).map(compileGlob))
  }
  const grantOf = (rule: string, serverId: string) => grants.get(rule)?.get(serverId)
  // A name must pass all three and none overrides another: the exclusion list refuses even a tool
  // that both the rule's globs and the token's tool limit allow.
  const nameAllowed = (caller: McpCaller, grant: CompiledGrant | undefined, tool: string): boolean =>
    grant !== undefined &&
    grant.tools.some((match) => match(tool)) &&
    (caller.toolLimit === undefined || caller.toolLimit.includes(tool)) &&
    !(caller.toolExclude?.includes(tool) ?? false)
  return {
    grantsServer: (rule, serverId) => grantOf(rule, serverId) !== undefined,
    lists: (caller, serverId, tool) => nameAllowed(caller, grantOf(caller.ruleName, serverId), tool),
    call(caller, serverId, tool, args) {
      const grant = grantOf(caller.ruleName, serverId)
      const named = `rule ${caller.ruleName}`
      if (grant === undefined) return { ok: false, message: `${named} grants no tools on MCP server ${serverId}` }
      if (!nameAllowed(caller, grant, tool)) {
        const granted = grant.tools.some((match) => match(tool))
        const why = !granted
          ? `is not granted by ${named} (allow.mcp.${serverId}.tools)`
          : caller.toolExclude?.includes(tool) === true
            ? 'is turned off for this token (the request disabled it)'
            : 'is outside this token\'s tools'
        return { ok: false, message: `tool ${tool} on MCP server ${serverId} ${why}` }
      }
      if (grant.condition === undefined) return { ok: true }
      const outcome = evaluateCondition(grant.condition, caller.claims, { tool, arguments: args })
      if ('error' in outcome) return { ok: false, message: `tool ${tool} refused by ${named}: its condition failed (${outcome.error})` }
      if (!outcome.value) return { ok: false, message: `tool ${tool} refused by ${named}: its condition is false for these arguments` }
      return { ok: true }
    },
    needsApproval: (rule, serverId, tool) => (approvals.get(rule) ?? []).some((match) => match(`${serverId}/${tool}`)),
  }
}

/** Compiles a condition with the MCP bindings; a problem is a config error (reported at load by checkMcpConfig). */
export function compileToolCondition(source: string, rule: string, serverId: string): CompiledCondition {
  const compiled = compileCondition(source, toolConditionBindings)
  if (!compiled.ok) throw new ToolPolicyError(`rules ${rule}: allow.mcp.${serverId}.condition: ${compiled.message}`)
  return compiled.program
}
