import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { mcpServersOf, type EnabledTools } from '../../src/policy/facts/mcp-toolsets.js'
import { toolDefinitionsOf } from '../../src/policy/facts/tool-definitions.js'

/**
 * The effective MCP tool set (claude-api-2026.md §3) against a reference model: a tool is enabled
 * when any source enables it, where a toolset enables a tool by `configs` > `default_config` >
 * enabled (only an explicit `false` turns off), bounded by a pinned list, and the deprecated
 * `tool_configuration` by `enabled` / `allowed_tools`. Checked on every tool name that appears.
 */
const names = ['search', 'get', 'delete', 'export']
const flag = fc.constantFrom<unknown>(undefined, true, false, 'false', 0)
const toolset = fc.record(
  {
    default_config: fc.record({ enabled: flag }, { requiredKeys: [] }),
    configs: fc.dictionary(fc.constantFrom(...names), fc.record({ enabled: flag }, { requiredKeys: [] }), { maxKeys: 4 }),
    tools: fc.uniqueArray(fc.constantFrom(...names), { maxLength: 4 }),
  },
  { requiredKeys: [] },
)
const legacy = fc.record({ enabled: fc.constantFrom<unknown>(undefined, true, false), allowed_tools: fc.option(fc.uniqueArray(fc.constantFrom(...names), { maxLength: 4 }), { nil: undefined }) }, { requiredKeys: [] })

const isOn = (value: unknown, inherited: boolean) => (value === undefined || value === null ? inherited : value !== false)

function toolsetEnables(set: Record<string, unknown>, tool: string): boolean {
  const byDefault = isOn((set.default_config as { enabled?: unknown } | undefined)?.enabled, true)
  const configs = (set.configs ?? {}) as Record<string, { enabled?: unknown }>
  const on = Object.hasOwn(configs, tool) ? isOn(configs[tool]?.enabled, byDefault) : byDefault
  if (set.tools === undefined) return on
  const pinned = (set.tools as string[]).includes(tool)
  return (pinned && byDefault && on) || (Object.hasOwn(configs, tool) && on)
}

function legacyEnables(config: { enabled?: unknown; allowed_tools?: string[] | undefined }, tool: string): boolean {
  if (config.enabled === false) return false
  return config.allowed_tools === undefined ? true : config.allowed_tools.includes(tool)
}

const contains = (enabled: EnabledTools, tool: string) => (enabled.all ? !enabled.except.includes(tool) : enabled.names.includes(tool))

describe('effective MCP tool sets', () => {
  it('enable exactly the tools some source enables (property, reference model)', () => {
    fc.assert(
      fc.property(fc.array(toolset, { maxLength: 3 }), fc.option(legacy, { nil: undefined }), (toolsets, configuration) => {
        const body = {
          mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/s', name: 's', ...(configuration === undefined ? {} : { tool_configuration: configuration }) }],
          tools: toolsets.map((set) => ({ type: 'mcp_toolset', mcp_server_name: 's', ...set })),
        }
        const [server] = mcpServersOf(body, toolDefinitionsOf(body))
        for (const tool of names) {
          const sources = [...toolsets.map((set) => toolsetEnables(set, tool)), ...(configuration === undefined ? [] : [legacyEnables(configuration, tool)])]
          const expected = sources.length === 0 ? true : sources.some(Boolean)
          expect(contains(server!.enabled, tool), `${tool} in ${JSON.stringify(body)}`).toBe(expected)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('a toolset naming another server leaves this one at the old default (every tool)', () => {
    const body = { mcp_servers: [{ type: 'url', url: 'https://a.example/s', name: 'a' }], tools: [{ type: 'mcp_toolset', mcp_server_name: 'b', default_config: { enabled: false } }] }
    expect(mcpServersOf(body, toolDefinitionsOf(body))[0]?.enabled).toEqual({ all: true, except: [] })
  })
})
