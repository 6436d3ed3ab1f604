import {
  auditDecisions,
  auditOutcomes,
  auditRecordVersion,
  type AuditClaimValue,
  type AuditCompletion,
  type AuditContentMode,
  type AuditDecision,
  type AuditMaskHits,
  type AuditOpening,
  type AuditOutcome,
  type AuditReason,
  type AuditResponse,
  type AuditUsage,
} from './record.js'

/**
 * Builds the two halves of a record from what the pipeline knows. Pure: no clock, no I/O; the
 * caller passes times and already-masked bodies. The input shapes are structural so the gateway can
 * pass its `VerifiedToken` and policy `Decision` as they are.
 */

/**
 * Source claims kept by default: what identifies a CI job (GitHub Actions, GitLab CI, generic OIDC)
 * without personal data such as e-mail. Only scalar values are stored.
 */
export const defaultAuditClaims: readonly string[] = [
  'iss',
  'aud',
  'jti',
  'iat',
  'exp',
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'workflow',
  'workflow_ref',
  'job_workflow_ref',
  'ref',
  'ref_type',
  'sha',
  'event_name',
  'environment',
  'run_id',
  'run_attempt',
  'actor',
  'project_id',
  'project_path',
  'namespace_id',
  'namespace_path',
  'pipeline_id',
  'pipeline_source',
  'job_id',
  'user_login',
]

export interface OpeningInput {
  /** The request id (a ULID). */
  readonly id: string
  readonly start: Date
  /** The verified token, when authentication got that far. */
  readonly identity?: { readonly issuerId: string; readonly claims: Readonly<Record<string, unknown>> } | undefined
  readonly claimNames?: readonly string[] | undefined
  readonly decision: {
    readonly effect: AuditDecision
    readonly rule?: string | undefined
    readonly principal?: string | undefined
    readonly reasons: readonly AuditReason[]
  }
  readonly reviewId?: string | undefined
  readonly endpoint: string
  readonly method: string
  readonly path: string
  readonly model?: string | undefined
  readonly skills?: readonly string[] | undefined
  readonly tools?: readonly string[] | undefined
  readonly containerId?: string | undefined
  /** `x-claude-code-session-id`, already checked to be an id (stages/audit-facts.ts). */
  readonly clientSession?: string | undefined
  /** MCP tool calls: the `/v1/messages` record that caused the call. */
  readonly causedBy?: string | undefined
  readonly requestBytes: number
  /** The parsed JSON body after request masking; dropped when `content` is `metadata`. */
  readonly requestBody?: unknown
  readonly requestMaskHits?: AuditMaskHits | undefined
  readonly content: AuditContentMode
}

/**
 * @example
 * const opening = buildOpening({ id: ctx.id, start: new Date(), identity: ctx.identity,
 *   decision: ctx.decision, endpoint: 'messages', method: 'POST', path: '/v1/messages',
 *   requestBytes: body.length, requestBody: maskedJson, content: 'masked' })
 */
export function buildOpening(input: OpeningInput): AuditOpening {
  const claims = input.identity?.claims ?? {}
  const sub = claims.sub
  return {
    v: auditRecordVersion,
    id: input.id,
    start: input.start.toISOString(),
    principal: input.decision.principal ?? null,
    issuer: input.identity?.issuerId ?? null,
    sub: typeof sub === 'string' ? sub : null,
    claims: selectClaims(claims, input.claimNames ?? defaultAuditClaims),
    rule: input.decision.rule ?? null,
    decision: input.decision.effect,
    reasons: input.decision.reasons.map((r) => (r.detail === undefined ? { code: r.code } : { code: r.code, detail: r.detail })),
    reviewId: input.reviewId ?? null,
    endpoint: input.endpoint,
    model: input.model ?? null,
    skills: [...(input.skills ?? [])],
    tools: [...(input.tools ?? [])],
    containerId: input.containerId ?? null,
    ...(input.clientSession === undefined ? {} : { clientSession: input.clientSession }),
    ...(input.causedBy === undefined ? {} : { causedBy: input.causedBy }),
    content: input.content,
    request: {
      method: input.method,
      path: input.path,
      bytes: input.requestBytes,
      body: input.content === 'masked' && input.requestBody !== undefined ? input.requestBody : null,
    },
    requestMaskHits: { ...(input.requestMaskHits ?? {}) },
  }
}

/** Scalars only: nested claims (Kubernetes, arrays) are not copied, and nothing is coerced. */
export function selectClaims(claims: Readonly<Record<string, unknown>>, names: readonly string[]): Record<string, AuditClaimValue> {
  const selected: Record<string, AuditClaimValue> = {}
  for (const name of names) {
    if (!Object.prototype.hasOwnProperty.call(claims, name)) continue
    const value = claims[name]
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      selected[name] = value
    }
  }
  return selected
}

export interface CompletionInput {
  /** The opening's start (to compute latencies). */
  readonly start: Date
  readonly firstByteAt?: Date | undefined
  readonly end: Date
  readonly status?: number | undefined
  readonly upstreamRequestId?: string | undefined
  readonly containerId?: string | undefined
  readonly usage?: AuditUsage | undefined
  /** Measured by the forward stage: request handed upstream → response headers. */
  readonly upstreamMs?: number | undefined
  readonly response?: AuditResponse | undefined
  readonly maskHits?: AuditMaskHits | undefined
  readonly outcome: AuditOutcome
  readonly error?: string | undefined
  readonly content: AuditContentMode
}

export function buildCompletion(input: CompletionInput): AuditCompletion {
  const start = input.start.getTime()
  return {
    v: auditRecordVersion,
    firstByte: input.firstByteAt?.toISOString() ?? null,
    end: input.end.toISOString(),
    status: input.status ?? null,
    upstreamRequestId: input.upstreamRequestId ?? null,
    containerId: input.containerId ?? null,
    usage: input.usage ?? null,
    latency: {
      totalMs: input.end.getTime() - start,
      firstByteMs: input.firstByteAt ? input.firstByteAt.getTime() - start : null,
      upstreamMs: input.upstreamMs === undefined ? null : Math.round(input.upstreamMs),
    },
    response: input.response === undefined ? null : withContentMode(input.response, input.content),
    maskHits: { ...(input.maskHits ?? {}) },
    outcome: input.outcome,
    error: input.error ?? null,
  }
}

function withContentMode(response: AuditResponse, content: AuditContentMode): AuditResponse {
  if (content === 'masked' || response.kind === 'opaque') return response
  return { kind: 'opaque', contentType: response.contentType, bytes: response.bytes }
}

/** The completion written for a record whose writer died before completing it. */
export function interruptedCompletion(start: string, end: Date): AuditCompletion {
  return buildCompletion({ start: new Date(start), end, outcome: 'interrupted', error: 'writer-lost', content: 'metadata' })
}

/** Anthropic `usage` (snake_case, in `message_start` and `message_delta`) → the record's usage. */
export function usageFromAnthropic(usage: unknown): AuditUsage | null {
  if (typeof usage !== 'object' || usage === null) return null
  const u = usage as Record<string, unknown>
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  return {
    inputTokens: n(u.input_tokens),
    outputTokens: n(u.output_tokens),
    cacheCreationInputTokens: n(u.cache_creation_input_tokens),
    cacheReadInputTokens: n(u.cache_read_input_tokens),
  }
}

const ulidPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** Structural checks a store runs before accepting a half; returns the problems, empty when valid. */
export function validateOpening(opening: AuditOpening): string[] {
  const problems: string[] = []
  if (opening.v !== auditRecordVersion) problems.push(`v must be ${auditRecordVersion}`)
  if (typeof opening.id !== 'string' || !ulidPattern.test(opening.id)) problems.push('id must be a ULID')
  if (!isIsoTime(opening.start)) problems.push('start must be an ISO-8601 time')
  if (!auditDecisions.includes(opening.decision)) problems.push('decision must be allow, deny or approval_required')
  if (!Array.isArray(opening.skills) || !opening.skills.every((s) => typeof s === 'string')) problems.push('skills must be strings')
  return problems
}

export function validateCompletion(completion: AuditCompletion): string[] {
  const problems: string[] = []
  if (completion.v !== auditRecordVersion) problems.push(`v must be ${auditRecordVersion}`)
  if (!isIsoTime(completion.end)) problems.push('end must be an ISO-8601 time')
  if (completion.firstByte !== null && !isIsoTime(completion.firstByte)) problems.push('firstByte must be an ISO-8601 time or null')
  if (!auditOutcomes.includes(completion.outcome)) problems.push('outcome must be completed, interrupted, denied or error')
  return problems
}

function isIsoTime(value: unknown): boolean {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(Date.parse(value))
}
