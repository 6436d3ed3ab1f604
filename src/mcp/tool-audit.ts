import { buildCompletion, buildOpening } from '../audit/record-builder.js'
import type { AuditContentMode, AuditDecision, AuditMaskHits, AuditOutcome } from '../audit/record.js'
import type { AuditWriter } from '../audit/writer.js'
import { GatewayError } from '../errors/gateway-error.js'
import type { Masking } from '../masking/rule-masking.js'
import { newRequestId } from '../observability/request-id.js'
import type { McpCaller } from './caller.js'

/** The record's endpoint name for one MCP tool call (docs/audit.md, docs/mcp.md). */
export const toolCallEndpoint = 'mcp.tools.call'

export interface ToolCallFacts {
  readonly caller: McpCaller
  readonly issuerId: string | undefined
  readonly serverId: string
  readonly tool: string
  readonly args: unknown
  readonly argumentsDigest: string
  readonly decision: AuditDecision
  /** Why: `rule-matched`, `tool-not-granted`, `approval-…`, with a detail naming the rule or review. */
  readonly reasons: readonly { readonly code: string; readonly detail?: string }[]
  readonly reviewId?: string | undefined
  readonly requestBytes: number
}

export interface ToolCallEnd {
  readonly status: number
  readonly outcome: AuditOutcome
  readonly result?: unknown
  readonly resultBytes?: number
  readonly maskHits?: AuditMaskHits
  readonly error?: string | undefined
}

export interface OpenToolCall {
  readonly id: string
  /** Commits the completion; never throws (a failure is reported, the client already has its answer). */
  complete(end: ToolCallEnd): Promise<void>
}

/**
 * One audit record per tool call (issue #19 item 6), granted or refused, in the record format of
 * `/v1` (record-builder.ts): identity, rule, decision, server and tool (as `mcp__<server>__<tool>`, the
 * name Claude sees), the arguments masked like a request body and the result masked like a response,
 * linked by `causedBy` or `clientSession`. The opening is committed before the call goes upstream: a
 * store that cannot commit refuses the call (503), as for `/v1`.
 */
export function toolCallAudit(writer: AuditWriter, content: AuditContentMode, masking: Masking, onError: (error: Error) => void) {
  return async function open(facts: ToolCallFacts): Promise<OpenToolCall> {
    const id = newRequestId()
    const start = new Date()
    const rule = facts.caller.ruleName
    const maskedArgs = maskArguments(masking, rule, facts.args ?? {})
    const opening = buildOpening({
      id,
      start,
      identity: { issuerId: facts.issuerId ?? 'unknown', claims: facts.caller.claims },
      decision: { effect: facts.decision, rule, principal: facts.caller.principal, reasons: facts.reasons },
      reviewId: facts.reviewId,
      endpoint: toolCallEndpoint,
      method: 'POST',
      path: `/mcp/${facts.serverId}`,
      tools: [`mcp__${facts.serverId}__${facts.tool}`],
      clientSession: facts.caller.clientSession,
      causedBy: facts.caller.causedBy,
      requestBytes: facts.requestBytes,
      requestBody: { server: facts.serverId, tool: facts.tool, arguments: maskedArgs.body, argumentsSha256: facts.argumentsDigest },
      requestMaskHits: maskedArgs.hits,
      content,
    })
    try {
      await writer.begin(opening)
    } catch (error) {
      throw new GatewayError('GW_AUDIT_UNAVAILABLE', { detail: `audit begin failed: ${(error as Error).message}`, cause: error })
    }
    return {
      id,
      complete: async (end) => {
        const response = end.result === undefined ? undefined : { kind: 'json' as const, contentType: 'application/json', bytes: end.resultBytes ?? 0, body: end.result }
        await writer
          .complete(id, buildCompletion({ start, end: new Date(), status: end.status, outcome: end.outcome, error: end.error, response, maskHits: end.maskHits, content }))
          .catch((error: unknown) => onError(error as Error))
      },
    }
  }
}

export type ToolCallAudit = ReturnType<typeof toolCallAudit>

/**
 * The arguments as recorded: masked with the rule's detectors and those of `masking.requests`, so a
 * call refused for carrying a secret does not keep that secret in the audit.
 */
function maskArguments(masking: Masking, rule: string, args: unknown): { body: unknown; hits: AuditMaskHits } {
  const masker = masking.forRule(rule) ?? masking.requests?.masker
  const detectors = [...new Set([...masking.detectorsForRule(rule), ...(masking.requests?.block ?? []), ...(masking.requests?.mask ?? [])])]
  if (masker === undefined || detectors.length === 0) return { body: args, hits: {} }
  const masked = masker.maskRequest(args, detectors, { forwarded: false })
  return { body: masked.body, hits: masked.hits }
}
