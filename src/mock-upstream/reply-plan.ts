/**
 * Decides what the mock answers to a Messages body: an ordered list of content blocks, each already cut
 * into its deltas. The JSON body and the SSE stream are both rendered from this one plan, so the two
 * always agree. The triggers are documented in README.md.
 */
import { newId } from './ids.js'
import { isRecord } from './http-io.js'
import { resolveContainer, skillDirectory, wantsCodeExecution } from './container.js'
import type { ContainerInfo } from './container.js'
import {
  MOCK_DEFAULT_TEXT, MOCK_PII, MOCK_PII_TEXT, MOCK_SIGNATURE, MOCK_THINKING_TEXT, SMALL_DELTA_SIZES,
  estimateTokens, sampleToolInput, splitBySizes, splitJson,
} from './reply-content.js'
import type { MockState } from './types.js'
import { serverWork } from './iterations.js'

export type PlannedBlock =
  | { kind: 'text'; chunks: string[] }
  | { kind: 'thinking'; chunks: string[]; signature: string }
  /** tool_use / server_tool_use / mcp_tool_use: started empty, input streamed as JSON fragments. */
  | { kind: 'input'; block: Record<string, unknown>; input: Record<string, unknown>; fragments: string[] }
  /** Result blocks arrive complete in content_block_start. */
  | { kind: 'whole'; block: Record<string, unknown> }

export interface ReplyPlan {
  id: string
  model: string
  blocks: PlannedBlock[]
  stopReason: 'end_turn' | 'tool_use'
  container: ContainerInfo | null
  inputTokens: number
  outputTokens: number
  thinkingTokens: number
  /** `usage.iterations`: set when advisor or compaction work ran (iterations.ts). */
  iterations?: Record<string, unknown>[]
}

export interface ReplyOverrides {
  /** `mock-reply-text` (already decoded). */
  replyText?: string
  /** `mock-delta-size`. */
  deltaSize?: number
  /** The MCP connector's real call (connector.ts), instead of the canned `echo`. */
  mcpBlocks?: PlannedBlock[]
}

const SERVER_TOOL_PREFIXES = ['web_search_', 'web_fetch_', 'code_execution_', 'tool_search_tool_', 'mcp_toolset', 'advisor_']

/** Text of the last user-role message: markers there select the reply, so a tool loop can end. */
export function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? body.messages : []
  for (let i = messages.length - 1; i >= 0; i--) {
    const message: unknown = messages[i]
    if (!isRecord(message) || message.role !== 'user') continue
    if (typeof message.content === 'string') return message.content
    if (!Array.isArray(message.content)) return ''
    return message.content
      .map((block: unknown) => (isRecord(block) && block.type === 'text' && typeof block.text === 'string' ? block.text : ''))
      .join('\n')
  }
  return ''
}

/** Shared with count_tokens so both endpoints agree on the same body. */
export function countInputTokens(body: Record<string, unknown>): number {
  return estimateTokens(JSON.stringify([body.system ?? null, body.messages ?? null, body.tools ?? null]).length)
}

/** Custom tools and Anthropic-defined client tools (bash, text editor, …); server tools run upstream. */
function isClientTool(tool: unknown): tool is Record<string, unknown> {
  if (!isRecord(tool) || typeof tool.name !== 'string') return false
  const type = tool.type
  return typeof type !== 'string' || !SERVER_TOOL_PREFIXES.some((prefix) => type.startsWith(prefix))
}

function chooseTool(body: Record<string, unknown>, userText: string): Record<string, unknown> | undefined {
  const tools = (Array.isArray(body.tools) ? body.tools : []).filter(isClientTool)
  if (tools.length === 0) return undefined
  const byName = (name: unknown): Record<string, unknown> | undefined =>
    tools.find((tool) => tool.name === name) ?? tools[0]
  const choice = isRecord(body.tool_choice) ? body.tool_choice.type : undefined
  if (choice === 'none') return undefined
  if (choice === 'tool') return byName(isRecord(body.tool_choice) ? body.tool_choice.name : undefined)
  if (choice === 'any') return tools[0]
  const marker = /MOCK:TOOL(?::([A-Za-z0-9_-]+))?/.exec(userText)
  return marker === null ? undefined : byName(marker[1])
}

function inputBlock(block: Record<string, unknown>, input: Record<string, unknown>): PlannedBlock {
  return { kind: 'input', block: { ...block, input: {} }, input, fragments: splitJson(JSON.stringify(input)) }
}

function thinkingBlock(body: Record<string, unknown>): PlannedBlock | undefined {
  const thinking = body.thinking
  if (!isRecord(thinking) || (thinking.type !== 'enabled' && thinking.type !== 'adaptive')) return undefined
  // With display "omitted" the block carries only its signature (reference §7.3).
  const chunks = thinking.display === 'omitted' ? [] : splitBySizes(MOCK_THINKING_TEXT, [12, 9, 15])
  return { kind: 'thinking', chunks, signature: MOCK_SIGNATURE }
}

function codeExecutionBlocks(state: MockState, container: ContainerInfo, userText: string): PlannedBlock[] {
  const pii = userText.includes('MOCK:PII')
  const first = container.skills?.[0]
  const dir = first === undefined ? undefined : skillDirectory(first, state)
  const command = dir === undefined ? 'echo "hello from the mock container"' : `cat /skills/${dir}/SKILL.md | head -3`
  const stdout = dir === undefined ? 'hello from the mock container\n' : `---\nname: ${dir}\n---\n`
  const outputs: Array<Record<string, unknown>> = []
  if (userText.includes('MOCK:FILE')) {
    const id = newId('file')
    const data = Buffer.from(pii ? `${MOCK_PII_TEXT}\n` : 'mock output file\n')
    state.files.set(id, { id, filename: 'output.txt', mimeType: 'text/plain', createdAt: new Date().toISOString(), downloadable: true, data })
    outputs.push({ type: 'bash_code_execution_output', file_id: id })
  }
  const toolUseId = newId('srvtoolu')
  return [
    inputBlock({ type: 'server_tool_use', id: toolUseId, name: 'bash_code_execution' }, { command }),
    {
      kind: 'whole',
      block: {
        type: 'bash_code_execution_tool_result',
        tool_use_id: toolUseId,
        content: { type: 'bash_code_execution_result', stdout, stderr: '', return_code: 0, content: outputs },
      },
    },
  ]
}

function mcpBlocks(body: Record<string, unknown>, pii: boolean): PlannedBlock[] {
  const servers = Array.isArray(body.mcp_servers) ? body.mcp_servers : []
  if (servers.length === 0) return []
  const first: unknown = servers[0]
  const serverName = isRecord(first) && typeof first.name === 'string' ? first.name : 'mcp'
  const toolUseId = newId('mcptoolu')
  return [
    inputBlock({ type: 'mcp_tool_use', id: toolUseId, name: 'echo', server_name: serverName }, { text: 'mock' }),
    {
      kind: 'whole',
      block: {
        type: 'mcp_tool_result',
        tool_use_id: toolUseId,
        is_error: false,
        content: [{ type: 'text', text: pii ? `Lookup result: ${MOCK_PII.email}` : 'mock MCP result' }],
      },
    },
  ]
}

function outputChars(blocks: PlannedBlock[]): { total: number; thinking: number } {
  let total = 0
  let thinking = 0
  for (const block of blocks) {
    if (block.kind === 'text') total += block.chunks.join('').length
    else if (block.kind === 'thinking') thinking += block.chunks.join('').length + block.signature.length / 4
    else if (block.kind === 'input') total += block.fragments.join('').length
  }
  return { total: total + thinking, thinking }
}

export function planReply(body: Record<string, unknown>, state: MockState, overrides: ReplyOverrides = {}): ReplyPlan {
  const userText = lastUserText(body)
  const pii = userText.includes('MOCK:PII')
  const inputTokens = countInputTokens(body)
  const work = serverWork(body, pii, inputTokens)
  const blocks: PlannedBlock[] = [...work.before]
  const thinking = thinkingBlock(body)
  if (thinking !== undefined) blocks.push(thinking)
  let container: ContainerInfo | null = null
  if (wantsCodeExecution(body)) {
    container = resolveContainer(body, state)
    blocks.push(...codeExecutionBlocks(state, container, userText))
  }
  blocks.push(...(overrides.mcpBlocks ?? mcpBlocks(body, pii)))
  blocks.push(...work.advisor)
  const text = overrides.replyText ?? (pii ? MOCK_PII_TEXT : MOCK_DEFAULT_TEXT)
  const sizes = overrides.deltaSize !== undefined ? [overrides.deltaSize] : SMALL_DELTA_SIZES
  blocks.push({ kind: 'text', chunks: splitBySizes(text, sizes) })
  const tool = chooseTool(body, userText)
  if (tool !== undefined) {
    blocks.push(inputBlock({ type: 'tool_use', id: newId('toolu'), name: tool.name }, sampleToolInput(tool, pii)))
  }
  const chars = outputChars(blocks)
  const model = typeof body.model === 'string' ? body.model : 'unknown'
  const outputTokens = estimateTokens(chars.total)
  const executor = { type: 'message', model, input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }
  return {
    id: newId('msg'),
    model,
    blocks,
    stopReason: tool !== undefined ? 'tool_use' : 'end_turn',
    container,
    inputTokens,
    outputTokens,
    thinkingTokens: chars.thinking > 0 ? estimateTokens(chars.thinking) : 0,
    ...(work.iterations.length > 0 ? { iterations: [...work.iterations, executor] } : {}),
  }
}
