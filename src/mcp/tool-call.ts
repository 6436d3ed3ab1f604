import { McpError, type CallToolRequest, type CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { Approvals, GateResult } from '../approvals/index.js'
import { GatewayError } from '../errors/gateway-error.js'
import { asGatewayError } from '../errors/to-response.js'
import type { Masking } from '../masking/rule-masking.js'
import { StorageError } from '../storage/errors.js'
import { argumentsDigest, toolCallFingerprint } from './arguments-digest.js'
import type { McpCaller } from './caller.js'
import { maskToolResult } from './result-masking.js'
import type { OpenToolCall, ToolCallAudit, ToolCallFacts } from './tool-audit.js'
import { LimitsUnavailable, type ToolCallLimits } from './tool-limits.js'
import type { ToolPolicy } from './tool-policy.js'
import { upstreamFailure, type UpstreamSession } from './upstream-client.js'

/** JSON-RPC error code of every policy refusal at `/mcp/{id}` (issue #19): the message names the rule. */
export const refusedCode = -32001

/**
 * A JSON-RPC error the SDK `Server` sends as `{ code, message }`. Not `McpError`, whose constructor
 * prefixes "MCP error <code>: " to the message: the client's SDK adds that prefix itself.
 */
export class JsonRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** Sent as the error's `data` (the SDK server copies it): e.g. `{ retryAfterSeconds }`. */
    readonly data?: Readonly<Record<string, unknown>>,
  ) {
    super(message)
    this.name = 'JsonRpcError'
  }
}

export const refused = (message: string): JsonRpcError => new JsonRpcError(refusedCode, message)

/** An upstream `McpError`'s own text, without the prefix its constructor added. */
const upstreamText = (error: McpError): string => error.message.replace(/^MCP error -?\d+: /, '')

export interface ToolCallDeps {
  readonly server: string
  readonly caller: McpCaller
  readonly issuerId: string | undefined
  readonly requestBytes: number
  readonly tools: ToolPolicy
  readonly masking: Masking
  readonly approvals: Approvals
  /** Undefined only with `audit.insecureDisabled`. */
  readonly audit: ToolCallAudit | undefined
  readonly upstream: () => Promise<UpstreamSession>
  readonly timeout: number
  /** The rule's `limits` (tool-limits.ts); undefined: none counted (unit tests). */
  readonly limits?: ToolCallLimits | undefined
}

type Params = CallToolRequest['params']

/**
 * One `tools/call`, in the order of the `/v1` pipeline: policy (name, tool limit, exclusions,
 * condition), request guard on the arguments, the rule's request rate, approval bound to the exact
 * call, audit opening committed, then the call upstream, its result masked and the record completed. Every refusal is a JSON-RPC error −32001
 * naming the rule and is recorded; nothing refused reaches the server.
 */
export function toolCallHandler(deps: ToolCallDeps) {
  const { caller, server } = deps
  const rule = caller.ruleName
  return async function callTool(params: Params, signal: AbortSignal): Promise<CallToolResult> {
    const tool = params.name
    let args: Record<string, unknown> = params.arguments ?? {}
    const facts = (decision: ToolCallFacts['decision'], reasons: ToolCallFacts['reasons'], reviewId?: string): ToolCallFacts => ({
      caller,
      issuerId: deps.issuerId,
      serverId: server,
      tool,
      args,
      argumentsDigest: argumentsDigest(args),
      decision,
      reasons,
      reviewId,
      requestBytes: deps.requestBytes,
    })
    const refuse = async (message: string, decision: ToolCallFacts['decision'] = 'deny', reviewId?: string): Promise<never> => {
      const record = await openRecord(deps, facts(decision, [{ code: 'mcp-tool-refused', detail: message }], reviewId))
      await record?.complete({ status: 403, outcome: 'denied', error: decision === 'approval_required' ? 'GW_AUTHZ_APPROVAL_REQUIRED' : 'GW_AUTHZ_TOOL_DENIED' })
      throw refused(message)
    }
    const overLimit = async (message: string, retryAfterSeconds: number): Promise<never> => {
      const record = await openRecord(deps, facts('deny', [{ code: 'limit-exceeded', detail: message }]))
      await record?.complete({ status: 429, outcome: 'denied', error: 'GW_LIMIT_RATE' })
      throw new JsonRpcError(refusedCode, message, { retryAfterSeconds })
    }

    const verdict = deps.tools.call(caller, server, tool, args)
    if (!verdict.ok) return refuse(verdict.message)

    const requests = deps.masking.requests
    if (requests !== undefined && requests.block.length > 0) {
      const first = requests.masker.scanRequest(args, requests.block).findings[0]
      if (first) return refuse(`tool ${tool}: the arguments carry a secret that must not leave the gateway (${first.detector} at arguments.${first.path})`)
    }
    if (requests !== undefined && requests.mask.length > 0) {
      const masked = requests.masker.maskRequest(args, requests.mask)
      if (masked.changed) args = masked.body as Record<string, unknown>
    }

    // After policy and guard (as /v1): a call refused for what it is costs no rate; before the
    // approval, so a call over the rate takes no grant use and opens no review.
    if (deps.limits !== undefined) {
      let check: Awaited<ReturnType<ToolCallLimits>>
      try {
        check = await deps.limits(caller)
      } catch (error) {
        if (error instanceof LimitsUnavailable) throw new JsonRpcError(-32603, 'limit counters unavailable; the call was refused')
        throw error
      }
      if (!check.ok) return overLimit(check.message, check.retryAfterSeconds)
    }

    let reviewId: string | undefined
    if (deps.tools.needsApproval(rule, server, tool)) {
      const gate = await gateCall(deps, tool, args, signal)
      if (gate.kind === 'approval_required') {
        return refuse(`rule ${rule}; review ${gate.review.id} is pending: an approver runs "skillgate reviews approve ${gate.review.id}" (or approves it in the console), then retry the same call`, 'approval_required', gate.review.id)
      }
      if (gate.kind === 'denied') return refuse(`rule ${rule}; review ${gate.review.id} was denied`, 'deny', gate.review.id)
      if (gate.kind === 'granted') reviewId = gate.grant.reviewId
    }

    const record = await openRecord(deps, facts('allow', [{ code: 'rule-matched', detail: rule }], reviewId))
    let session: UpstreamSession | undefined
    let result: CallToolResult
    try {
      session = await deps.upstream()
      result = (await session.client.callTool({ name: tool, arguments: args }, undefined, { signal: AbortSignal.any([session.signal, signal]), timeout: deps.timeout })) as CallToolResult
    } catch (error) {
      const failure = maskedError(toJsonRpcError(error, session?.signal), deps.masking, rule)
      await record?.complete({ status: 502, outcome: signal.aborted ? 'interrupted' : 'error', error: failure.message })
      throw failure
    }
    let masked: { result: Record<string, unknown>; hits: Record<string, number> }
    try {
      masked = maskToolResult(result, deps.masking.forRule(rule))
    } catch (error) {
      await record?.complete({ status: 502, outcome: 'error', error: 'GW_MASKING_FAILED' })
      throw new JsonRpcError(-32603, `the tool result could not be masked safely and was withheld (${(error as Error).message})`)
    }
    await record?.complete({ status: 200, outcome: 'completed', result: masked.result, resultBytes: Buffer.byteLength(JSON.stringify(masked.result)), maskHits: masked.hits })
    return masked.result as CallToolResult
  }
}

async function gateCall(deps: ToolCallDeps, tool: string, args: unknown, signal: AbortSignal): Promise<GateResult> {
  const { caller, server } = deps
  const claims = caller.claims
  try {
    return await deps.approvals.gateBound(
      {
        rule: caller.ruleName,
        principal: caller.principal,
        fingerprint: toolCallFingerprint({ principal: caller.principal, rule: caller.ruleName, serverId: server, tool, args }),
        requester: { issuer: String(claims.iss ?? ''), subject: String(claims.sub ?? '') },
        summary: { endpoint: 'mcp.tools.call', model: null, skills: [], tools: [`mcp__${server}__${tool}`], requestId: `mcp:${argumentsDigest(args).slice(0, 16)}` },
      },
      { signal },
    )
  } catch (error) {
    if (error instanceof StorageError) throw new JsonRpcError(-32603, 'approval store unavailable; the call was refused')
    throw error
  }
}

async function openRecord(deps: ToolCallDeps, facts: ToolCallFacts): Promise<OpenToolCall | undefined> {
  if (deps.audit === undefined) return undefined
  try {
    return await deps.audit(facts)
  } catch (error) {
    // As for /v1: nothing goes upstream unaudited.
    throw new JsonRpcError(-32603, asGatewayError(error).publicMessage)
  }
}

/** The server's own error text is content like a result: masked with the rule's profiles before the client sees it. */
export function maskedError(error: JsonRpcError, masking: Masking, rule: string): JsonRpcError {
  const masker = masking.forRule(rule)
  if (masker === undefined) return error
  return new JsonRpcError(error.code, masker.maskText(error.message).text)
}

/** An upstream JSON-RPC error keeps its code and message; a cut connection says why (byte cap, deadline). */
export function toJsonRpcError(error: unknown, signal: AbortSignal | undefined): JsonRpcError {
  if (error instanceof McpError && !(signal?.aborted ?? false)) return new JsonRpcError(error.code, upstreamText(error))
  const failure = signal ? upstreamFailure(error, signal) : error instanceof GatewayError ? error : upstreamFailure(error, new AbortController().signal)
  return new JsonRpcError(-32603, failure.publicMessage)
}
