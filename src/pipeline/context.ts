import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { Endpoint } from '../policy/endpoint.js'
import type { Decision } from '../policy/decision.js'
import type { RequestFacts } from '../policy/request-facts.js'
import type { VerifiedToken } from '../identity/types.js'
import type { AuditOpening } from '../audit/record.js'
import type { ResponseBody } from './response.js'

/**
 * Per-request state. Every optional field names the stage that sets it; nothing else writes it
 * (style-anchors §3.4). Domain modules never see this type.
 */
export interface RequestContext {
  /** request-id stage (first): our id, echoed as `skillgate-request-id` and in every log line and error. */
  readonly id: string
  /** performance.now() at arrival. */
  readonly startedAt: number
  readonly method: string
  /** Pathname only; routing never looks at the query string (anthropic-api.md §0 rule 3). */
  readonly path: string
  /** Raw query string including "?", forwarded unchanged. */
  readonly search: string
  /** server: the client's address, from `X-Forwarded-For` only behind `listen.trustedProxies`. */
  readonly clientAddress: string
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: readonly string[]
  readonly incoming: IncomingMessage
  /** Written only by the respond stage (and by the server for errors before it). */
  readonly outgoing: ServerResponse
  /** Aborted when the client goes away; the forward stage passes it to the upstream call. */
  readonly signal: AbortSignal
  log: Logger
  /** classify stage: which Claude API endpoint this is. */
  endpoint?: Endpoint
  /** read-body stage: the exact bytes received. */
  body?: Buffer
  /** read-body stage: the parsed JSON body, when the request has one (for inspection only). */
  json?: unknown
  /**
   * read-body stage (again in guard-request only when it rewrote the body): what policy, approvals,
   * limits and the audit read from the body, derived once. Empty for a body that is not inspected.
   */
  facts?: RequestFacts
  /** authenticate stage. */
  identity?: VerifiedToken
  /** authorize stage: the decision with rule and reasons. */
  decision?: Decision
  /** guard-request stage: detector hits masked out of the request before it went upstream. */
  requestMaskHits?: Readonly<Record<string, number>>
  /** mask-response stage: detector hits in the response so far (a live view while it streams). */
  responseMaskHits?: Readonly<Record<string, number>>
  /** rewrite-mcp-connector stage: the `skillgate:{id}` servers it rewrote, for the audit record (no token). */
  mcpConnectorNote?: string
  /** audit-open stage: the committed opening half of this request's audit record. */
  audit?: { readonly opening: AuditOpening; readonly start: Date }
  /** inject-credential stage: the headers sent upstream. */
  upstreamHeaders?: string[]
  /** forward stage: the upstream answer; later stages may wrap `response.body`. */
  response?: UpstreamResponse
  /** forward stage: performance.now() when the request was handed to the upstream client. */
  upstreamSentAt?: number
  /** forward stage: performance.now() when the upstream response headers arrived. */
  upstreamHeadersAt?: number
  /** approve stage: the review this request opened, joined or was granted by (approval required). */
  reviewId?: string
  /** approve stage: how the approval gate ended, for the audit record's reasons. */
  approval?: ApprovalNote
  /** observe-response stage: the response's Anthropic `usage` (cumulative; the last report wins). */
  usage?: Readonly<Record<string, unknown>>
  /**
   * A stage waiting on a store commit before it passes its next chunk on (audit-close, own-responses,
   * through `holdOutputWhile`): what respond has queued for the client waits for it too.
   */
  outputHold?: Promise<unknown> | undefined
  /** respond stage: Date.now() when the response headers went to the client. */
  firstByteAt?: number
  /** server: the gateway error code when the request failed. */
  errorCode?: string
  /** respond stage (or the server, for a request refused before it): how the request ended. */
  outcome?: 'completed' | 'interrupted' | 'denied' | 'error'
}

export interface UpstreamResponse {
  status: number
  headers: Record<string, string | string[]>
  body: ResponseBody
}

/** What the approve stage recorded: the gate's outcome and a sentence naming review, approver and grant. */
export interface ApprovalNote {
  readonly state: 'granted' | 'pending' | 'denied'
  readonly detail: string
}
