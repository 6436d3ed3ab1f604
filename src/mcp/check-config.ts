import { compileCondition } from '../policy/cel.js'
import type { ParsedConfig } from '../config/schema.js'
import { toolConditionBindings } from './tool-policy.js'

/** A problem as config/check-semantics.ts reports it (declared here: that module imports this one). */
export interface McpConfigProblem {
  readonly path: (string | number)[]
  readonly message: string
  readonly hint?: string
}

/**
 * `mcpServers` and the rules' `allow.mcp` / `approval.mcpTools`, checked together at load: a rule
 * naming a server that is not configured would silently grant nothing, so it is an error; so are
 * duplicate ids, plain-http servers off loopback (the gateway sends them its credential) and
 * conditions that do not compile.
 */
export function checkMcpConfig(config: Pick<ParsedConfig, 'mcpServers' | 'rules'>): McpConfigProblem[] {
  const problems: McpConfigProblem[] = []
  const ids = new Set<string>()
  config.mcpServers.forEach((server, index) => {
    if (ids.has(server.id)) problems.push({ path: ['mcpServers', index, 'id'], message: `duplicate MCP server id "${server.id}"` })
    ids.add(server.id)
    const url = new URL(server.url)
    if (url.protocol !== 'https:' && !isLoopback(url.hostname)) problems.push({ path: ['mcpServers', index, 'url'], message: 'an MCP server must use https (plain http only on a loopback address)' })
    const tokenUrl = server.auth && 'clientCredentials' in server.auth ? new URL(server.auth.clientCredentials.tokenUrl) : undefined
    if (tokenUrl && tokenUrl.protocol !== 'https:' && !isLoopback(tokenUrl.hostname)) {
      problems.push({ path: ['mcpServers', index, 'auth', 'clientCredentials', 'tokenUrl'], message: 'the token URL must use https (plain http only on a loopback address)' })
    }
  })
  const known = [...ids].join(', ') || 'none configured'
  config.rules.forEach((rule, index) => {
    for (const [serverId, grant] of Object.entries(rule.allow?.mcp ?? {})) {
      const at = ['rules', index, 'allow', 'mcp', serverId]
      if (!ids.has(serverId)) problems.push({ path: at, message: `unknown MCP server "${serverId}"`, hint: `mcpServers ids: ${known}` })
      if (grant.condition !== undefined) {
        const compiled = compileCondition(grant.condition, toolConditionBindings)
        if (!compiled.ok) problems.push({ path: [...at, 'condition'], message: compiled.message })
      }
    }
    rule.approval?.mcpTools?.forEach((pattern, k) => {
      const serverId = pattern.split('/')[0] ?? ''
      if (!pattern.includes('/') || !ids.has(serverId)) {
        problems.push({ path: ['rules', index, 'approval', 'mcpTools', k], message: `expected "<server id>/<tool glob>" naming a configured MCP server, got "${pattern}"`, hint: `mcpServers ids: ${known}` })
      }
    })
  })
  return problems
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname)
}
