/**
 * The 2026 server-side work that bills outside top-level `usage` (claude-api-2026.md §2, §7): the
 * advisor tool (`server_tool_use {name: advisor}` + a whole `advisor_tool_result`) and compaction (a
 * `compaction` block). Their tokens appear only in `usage.iterations[]`, next to the executor's own
 * `message` iteration, so a gateway that budgets on top-level usage alone undercounts.
 */
import { isRecord } from './http-io.js'
import { newId } from './ids.js'
import { MOCK_PII_TEXT } from './reply-content.js'
import type { PlannedBlock } from './reply-plan.js'

/** Fixed, so budget tests can predict the bill. */
export const MOCK_ADVISOR_OUTPUT_TOKENS = 640
export const MOCK_COMPACTION_OUTPUT_TOKENS = 200
export const MOCK_ADVICE_TEXT = 'Plan: read the failing test first, then fix the smallest thing that makes it pass.'
export const MOCK_COMPACTION_TEXT = 'Summary of the earlier conversation: the user asked for a release note draft.'

/** Advisors whose advice comes back encrypted (`advisor_redacted_result`). */
const REDACTED_ADVISORS = /^claude-(opus|fable|mythos)-5(\b|-|$)/

export interface ServerWork {
  readonly before: PlannedBlock[]
  readonly advisor: PlannedBlock[]
  /** Everything but the executor's own `message` iteration, which depends on the final reply. */
  readonly iterations: Record<string, unknown>[]
}

export function serverWork(body: Record<string, unknown>, pii: boolean, inputTokens: number): ServerWork {
  const iterations: Record<string, unknown>[] = []
  const before: PlannedBlock[] = []
  if (wantsCompaction(body)) {
    before.push({ kind: 'whole', block: { type: 'compaction', content: pii ? `${MOCK_COMPACTION_TEXT} ${MOCK_PII_TEXT}` : MOCK_COMPACTION_TEXT } })
    iterations.push({ type: 'compaction', input_tokens: inputTokens, output_tokens: MOCK_COMPACTION_OUTPUT_TOKENS })
  }
  const advisorModel = advisorModelOf(body)
  const advisor: PlannedBlock[] = []
  if (advisorModel !== undefined) {
    const toolUseId = newId('srvtoolu')
    const content = REDACTED_ADVISORS.test(advisorModel)
      ? { type: 'advisor_redacted_result', encrypted_content: `EqMock${Buffer.from(MOCK_ADVICE_TEXT).toString('base64')}` }
      : { type: 'advisor_result', text: pii ? `${MOCK_ADVICE_TEXT} ${MOCK_PII_TEXT}` : MOCK_ADVICE_TEXT, stop_reason: 'end_turn' }
    advisor.push({ kind: 'input', block: { type: 'server_tool_use', id: toolUseId, name: 'advisor', input: {} }, input: {}, fragments: [] })
    advisor.push({ kind: 'whole', block: { type: 'advisor_tool_result', tool_use_id: toolUseId, content } })
    iterations.push({ type: 'advisor_message', model: advisorModel, input_tokens: inputTokens, output_tokens: MOCK_ADVISOR_OUTPUT_TOKENS, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 })
  }
  return { before, advisor, iterations }
}

function advisorModelOf(body: Record<string, unknown>): string | undefined {
  const tools = Array.isArray(body.tools) ? body.tools : []
  const advisor: unknown = tools.find((tool: unknown) => isRecord(tool) && typeof tool.type === 'string' && tool.type.startsWith('advisor_'))
  return isRecord(advisor) && typeof advisor.model === 'string' ? advisor.model : undefined
}

function wantsCompaction(body: Record<string, unknown>): boolean {
  const management = body.context_management
  if (!isRecord(management) || !Array.isArray(management.edits)) return false
  return management.edits.some((edit: unknown) => isRecord(edit) && typeof edit.type === 'string' && edit.type.startsWith('compact_'))
}
