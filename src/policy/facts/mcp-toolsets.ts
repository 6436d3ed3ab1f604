import { isObject, listOf, stringMember } from './json.js'
import type { ToolDefinition } from './tool-definitions.js'

/**
 * The tools a request enables on one MCP server. The gateway cannot list a server's tools, so a
 * set that starts from "every tool" stays open-ended (`all`, minus the ones turned off).
 */
export type EnabledTools = { readonly all: true; readonly except: readonly string[] } | { readonly all: false; readonly names: readonly string[] }

/** One `mcp_servers[*]` entry as policy reads it. */
export interface McpServerUse {
  /** `''` when missing or malformed. */
  readonly url: string
  readonly name: string
  readonly enabled: EnabledTools
}

const everyTool: EnabledTools = { all: true, except: [] }
const noTool: EnabledTools = { all: false, names: [] }

/**
 * The effective enabled tool set of each server (claude-api-2026.md §3). Sources, each read the way
 * that enables the most when it is malformed:
 * - an `mcp_toolset` naming the server (in `tools` or inline): `configs.<tool>.enabled` over
 *   `default_config.enabled` over enabled; a pinned `tools` list (mcp-client-2026-09-15) bounds it;
 * - the deprecated `mcp_servers[].tool_configuration {enabled, allowed_tools}` (mcp-client-2025-04-04);
 * - neither: the old connector enabled every tool.
 * When several sources name one server (the API would refuse some such bodies), the union is checked.
 */
export function mcpServersOf(body: Record<string, unknown>, tools: readonly ToolDefinition[]): McpServerUse[] {
  const toolsets = tools.map(({ tool }) => tool).filter((tool): tool is Record<string, unknown> => isObject(tool) && tool.type === 'mcp_toolset')
  return listOf(body.mcp_servers).map((server) => {
    if (!isObject(server)) return { url: '', name: '', enabled: everyTool }
    const name = stringMember(server, 'name') ?? ''
    const sources = toolsets.filter((toolset) => toolset.mcp_server_name === name).map(toolsetEnables)
    if (server.tool_configuration !== undefined) sources.push(legacyEnables(server.tool_configuration))
    const enabled = sources.length === 0 ? everyTool : sources.reduce(union)
    return { url: stringMember(server, 'url') ?? '', name, enabled }
  })
}

function toolsetEnables(toolset: Record<string, unknown>): EnabledTools {
  const byDefault = enabledFlag(isObject(toolset.default_config) ? toolset.default_config.enabled : undefined, true)
  const configs = isObject(toolset.configs) ? Object.entries(toolset.configs) : []
  const configured = configs.map(([tool, config]) => ({ tool, on: enabledFlag(isObject(config) ? config.enabled : undefined, byDefault) }))
  const turnedOn = configured.filter(({ on }) => on).map(({ tool }) => tool)
  if (toolset.tools !== undefined) {
    const pinned = listOf(toolset.tools).map((entry) => (typeof entry === 'string' ? entry : isObject(entry) ? stringMember(entry, 'name') ?? '' : ''))
    const off = new Set(configured.filter(({ on }) => !on).map(({ tool }) => tool))
    const pinnedOn = byDefault ? pinned.filter((tool) => !off.has(tool)) : []
    return { all: false, names: [...new Set([...pinnedOn, ...turnedOn])] }
  }
  if (byDefault) return { all: true, except: configured.filter(({ on }) => !on).map(({ tool }) => tool) }
  return { all: false, names: turnedOn }
}

function legacyEnables(configuration: unknown): EnabledTools {
  if (!isObject(configuration)) return everyTool
  if (configuration.enabled === false) return noTool
  if (configuration.allowed_tools === undefined || configuration.allowed_tools === null) return everyTool
  return { all: false, names: listOf(configuration.allowed_tools).map((tool) => (typeof tool === 'string' ? tool : '')) }
}

/** Only an explicit `false` turns a tool off; a malformed flag counts as on. */
function enabledFlag(value: unknown, inherited: boolean): boolean {
  if (value === undefined || value === null) return inherited
  return value !== false
}

function union(a: EnabledTools, b: EnabledTools): EnabledTools {
  if (!a.all && !b.all) return { all: false, names: [...new Set([...a.names, ...b.names])] }
  // Open-ended on either side: the union stays open, minus the tools both leave off.
  const off = (set: EnabledTools, tool: string) => (set.all ? set.except.includes(tool) : !set.names.includes(tool))
  const candidates = [...(a.all ? a.except : []), ...(b.all ? b.except : [])]
  return { all: true, except: [...new Set(candidates.filter((tool) => off(a, tool) && off(b, tool)))] }
}
