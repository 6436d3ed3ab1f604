import { isObject, listOf } from './json.js'

/** A tool definition and where it sits: `tools[2]`, or `messages[4].content[1]` for an inline one. */
export interface ToolDefinition {
  readonly at: string
  readonly tool: unknown
}

/**
 * Every tool a Messages body defines: `tools[*]`, and `tool_addition` blocks (inline-tools beta,
 * claude-api-2026.md §7) anywhere in `system` or `messages[*].content`, which add a tool mid-conversation.
 * A `tool_reference` addition only re-enables a tool already in `tools` (checked there), so it
 * defines nothing new; any other `tool` is a definition and is checked like one in `tools`.
 */
export function toolDefinitionsOf(body: Record<string, unknown>): ToolDefinition[] {
  const defined = listOf(body.tools).map((tool, i) => ({ at: `tools[${i}]`, tool }))
  const inline: ToolDefinition[] = []
  const scan = (blocks: unknown, at: string) => {
    if (!Array.isArray(blocks)) return
    blocks.forEach((block, j) => {
      if (!isObject(block) || block.type !== 'tool_addition') return
      for (const tool of listOf(block.tool ?? block.tools)) {
        if (isObject(tool) && tool.type === 'tool_reference') continue
        inline.push({ at: `${at}[${j}]`, tool })
      }
    })
  }
  scan(body.system, 'system')
  listOf(body.messages).forEach((message, i) => {
    if (isObject(message)) scan(message.content, `messages[${i}].content`)
  })
  return [...defined, ...inline]
}

/** Server and Anthropic-defined tools carry a `type`; client tools have none or `custom` (§8.1). */
export function toolName(tool: unknown): string {
  if (!isObject(tool)) return ''
  if (typeof tool.type === 'string' && tool.type !== 'custom') return tool.type
  return typeof tool.name === 'string' ? `client:${tool.name}` : ''
}

/** The advisor tool (`advisor_20260301`, and later versions) names the model it runs. */
export const isAdvisorTool = (tool: unknown): tool is Record<string, unknown> =>
  isObject(tool) && typeof tool.type === 'string' && tool.type.startsWith('advisor_')
