/**
 * The audit record, format version 1 (SPEC §5). A request is written in two halves, each a link of
 * the hash chain (docs/audit.md): the **opening** (who, what, which rule decided and why, the masked
 * request), committed before anything goes upstream, and the **completion** (status, usage, the
 * masked response, how it ended), committed before the last byte reaches the client. Nothing is
 * updated in place; `AuditRecord` is the two halves assembled with their chain positions.
 *
 * Times are ISO-8601 UTC strings with milliseconds; every field is present (null when unknown) so
 * exports have one shape. Bodies are stored already masked; `content: 'metadata'` stores none.
 */

export const auditRecordVersion = 1 as const

export type AuditDecision = 'allow' | 'deny' | 'approval_required'
export type AuditOutcome = 'completed' | 'interrupted' | 'denied' | 'error'
/** `open`: the opening is committed and the completion is not (in flight, or lost to a crash). */
export type AuditState = AuditOutcome | 'open'
export type AuditContentMode = 'masked' | 'metadata'

export const auditDecisions: readonly AuditDecision[] = ['allow', 'deny', 'approval_required']
export const auditOutcomes: readonly AuditOutcome[] = ['completed', 'interrupted', 'denied', 'error']

/** A policy reason as stored: the code is a plain string so old records stay readable when codes change. */
export interface AuditReason {
  readonly code: string
  readonly detail?: string
}

export type AuditClaimValue = string | number | boolean

export interface AuditUsage {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheCreationInputTokens: number
  readonly cacheReadInputTokens: number
}

export interface AuditLatency {
  /** start → end. */
  readonly totalMs: number | null
  /** start → first response byte sent to the client. */
  readonly firstByteMs: number | null
  /** request handed to the upstream client → upstream response headers. */
  readonly upstreamMs: number | null
}

export interface AuditRequest {
  readonly method: string
  /** Pathname only; the query string may carry nothing the audit needs. */
  readonly path: string
  readonly bytes: number
  /** The parsed, masked JSON body; null for `content: metadata` or a non-JSON body. */
  readonly body: unknown
}

/** One SSE event as relayed to the client; `t` is milliseconds after `time.start`. */
export interface AuditStreamEvent {
  readonly t: number
  readonly event: string
  readonly data: string
}

export type AuditResponse =
  | { readonly kind: 'json'; readonly contentType: string | null; readonly bytes: number; readonly body: unknown }
  | {
      readonly kind: 'sse'
      readonly contentType: string | null
      readonly bytes: number
      /** The message assembled from the events (what a non-streaming call would have returned). */
      readonly message: unknown
      /** Every event with its time offset: enough to replay the stream with its timing. */
      readonly events: readonly AuditStreamEvent[]
      /** True when the event log hit its size bound; `message` is still complete. */
      readonly truncated: boolean
    }
  /** Binary bodies and `content: metadata`: size and type only, and the SHA-256 (hex) of what the client received when known. */
  | { readonly kind: 'opaque'; readonly contentType: string | null; readonly bytes: number; readonly sha256?: string }

/** Findings per detector name, e.g. `{ email: 2, "aws-access-key": 1 }`. */
export type AuditMaskHits = Readonly<Record<string, number>>

/** The first half: everything known before the request goes upstream. */
export interface AuditOpening {
  readonly v: typeof auditRecordVersion
  /** ULID; the request id. */
  readonly id: string
  readonly start: string
  readonly principal: string | null
  /** Issuer config id (`issuers[].id`). */
  readonly issuer: string | null
  readonly sub: string | null
  /** Selected scalar source claims (repository, workflow, ref, …); never the token. */
  readonly claims: Readonly<Record<string, AuditClaimValue>>
  readonly rule: string | null
  readonly decision: AuditDecision
  readonly reasons: readonly AuditReason[]
  /** The review a job can wait on when the decision is `approval_required`. */
  readonly reviewId: string | null
  /** Endpoint name as policy sees it (`messages`, `models`, …, `unknown`). */
  readonly endpoint: string
  readonly model: string | null
  readonly skills: readonly string[]
  readonly tools: readonly string[]
  readonly containerId: string | null
  /**
   * The client's own session id (Claude Code's `x-claude-code-session-id`), as the client sent it.
   * Chosen by the client, so it identifies a session only together with `principal`. Absent in
   * records written before it existed (read as null).
   */
  readonly clientSession?: string | null
  /** MCP tool calls (docs/mcp.md): the id of the `/v1/messages` record whose turn made this call, when known. */
  readonly causedBy?: string
  readonly content: AuditContentMode
  readonly request: AuditRequest
  readonly requestMaskHits: AuditMaskHits
  /** Only on a record that stands for many unauthenticated refusals (audit.md "Aggregated unauthenticated refusals"). */
  readonly aggregate?: AuditAggregate
}

/** How many refusals one aggregated record stands for, from whom and when. */
export interface AuditAggregate {
  /** Refusals this record counts (each also counted in skillgate_unauthenticated_refusals_total). */
  readonly count: number
  /** The client address, as `listen.trustedProxies` defines it. */
  readonly clientAddress: string
  /** First and last refusal counted, ISO-8601. */
  readonly first: string
  readonly last: string
}

/** The second half: how the request ended. */
export interface AuditCompletion {
  readonly v: typeof auditRecordVersion
  readonly firstByte: string | null
  readonly end: string
  /** HTTP status sent to the client; null when none was sent (crash). */
  readonly status: number | null
  readonly upstreamRequestId: string | null
  /** A container the response created or reused, when it differs from the opening's. */
  readonly containerId: string | null
  readonly usage: AuditUsage | null
  readonly latency: AuditLatency
  readonly response: AuditResponse | null
  /** Response-side findings per detector. */
  readonly maskHits: AuditMaskHits
  readonly outcome: AuditOutcome
  /** A gateway error code (`GW_…`) or the upstream error type; null on success. */
  readonly error: string | null
}

/** A record's place in the chain. */
export interface AuditChainPosition {
  readonly seq: number
  readonly prevHash: string
  readonly hash: string
}

/** What `AuditStore.get/list/iterate` return and what sinks and exports carry: both halves joined (see `assembleRecord`). */
export interface AuditRecord
  extends Pick<AuditOpening, 'v' | 'id' | 'principal' | 'issuer' | 'sub' | 'claims' | 'rule' | 'decision' | 'reasons' | 'reviewId' | 'endpoint'>,
    Pick<AuditOpening, 'model' | 'skills' | 'tools' | 'containerId' | 'causedBy' | 'content' | 'request' | 'aggregate'>,
    Pick<AuditCompletion, 'status' | 'upstreamRequestId' | 'usage' | 'response' | 'error'> {
  readonly time: { readonly start: string; readonly firstByte: string | null; readonly end: string | null }
  /** The client's session id (`x-claude-code-session-id`); a session is (principal, clientSession). */
  readonly clientSession: string | null
  readonly latency: AuditLatency | null
  readonly maskHits: { readonly request: AuditMaskHits; readonly response: AuditMaskHits }
  readonly outcome: AuditState
  /** prevHash of the opening link. */
  readonly prevHash: string
  /** hash of the record's last link (the completion, or the opening while open). */
  readonly hash: string
  readonly chain: { readonly open: AuditChainPosition; readonly close: AuditChainPosition | null }
}

/** Joins the two halves and their chain positions into the record users see. */
export function assembleRecord(
  opening: AuditOpening,
  completion: AuditCompletion | null,
  chain: AuditRecord['chain'],
): AuditRecord {
  const c = completion
  return {
    v: opening.v,
    id: opening.id,
    time: { start: opening.start, firstByte: c?.firstByte ?? null, end: c?.end ?? null },
    principal: opening.principal,
    issuer: opening.issuer,
    sub: opening.sub,
    claims: opening.claims,
    rule: opening.rule,
    decision: opening.decision,
    reasons: opening.reasons,
    reviewId: opening.reviewId,
    endpoint: opening.endpoint,
    model: opening.model,
    skills: opening.skills,
    tools: opening.tools,
    containerId: c?.containerId ?? opening.containerId,
    clientSession: opening.clientSession ?? null,
    ...(opening.causedBy === undefined ? {} : { causedBy: opening.causedBy }),
    status: c?.status ?? null,
    upstreamRequestId: c?.upstreamRequestId ?? null,
    usage: c?.usage ?? null,
    latency: c?.latency ?? null,
    content: opening.content,
    request: opening.request,
    response: c?.response ?? null,
    maskHits: { request: opening.requestMaskHits, response: c?.maskHits ?? {} },
    outcome: c?.outcome ?? 'open',
    error: c?.error ?? null,
    prevHash: chain.open.prevHash,
    hash: (chain.close ?? chain.open).hash,
    chain,
    ...(opening.aggregate ? { aggregate: opening.aggregate } : {}),
  }
}
