/**
 * Public types of the mock Claude upstream, plus the in-memory state every handler shares.
 * The public shapes are re-exported from `index.ts`; handlers only see `MockState`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { MultipartPart } from './multipart.js'

export interface RecordedRequest {
  method: string
  /** Pathname only; the query string is in `search`. */
  path: string
  /** Raw query string including the leading '?', or ''. */
  search: string
  /** node's `req.rawHeaders`: original order and case, name/value alternating. */
  rawHeaders: string[]
  /** Lowercased header map (`req.headers`). */
  headers: Record<string, string | string[] | undefined>
  /** Exact bytes received. */
  body: Buffer
  /** Parsed body when the content-type is JSON and it parses. */
  json?: unknown
  /** Part summary of a multipart/form-data body. */
  multipart?: MultipartSummary[]
  receivedAt: number
}

export interface MultipartSummary {
  name: string
  filename?: string
  contentType?: string
  size: number
}

export interface MockUpstreamOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0 (an ephemeral port). */
  port?: number
  /** Accepted credential (x-api-key or Authorization: Bearer). Default 'sk-ant-mock-upstream-key'. */
  apiKey?: string
  /** Delay between SSE frames in ms (default 0: the whole stream is written at once). */
  frameDelayMs?: number
  /** Enables POST /v1/oauth/token (jwt-bearer JSON form). */
  federation?: { accessTokenTtlSeconds?: number }
  /**
   * Keep at most this many recorded requests (oldest dropped first). Default: unlimited. Set it when the
   * mock serves a long benchmark so memory stays flat.
   */
  maxRecordedRequests?: number
}

export interface FederationExchange {
  assertion: string
  federation_rule_id?: string
  organization_id?: string
}

export interface MockUpstream {
  /** http://127.0.0.1:PORT */
  readonly url: string
  readonly apiKey: string
  /** Every request, including rejected ones, recorded before it is answered. */
  readonly requests: RecordedRequest[]
  readonly exchanges: FederationExchange[]
  /** Clears `requests` and `exchanges` (in place: references held by tests stay valid). */
  reset(): void
  setFrameDelay(ms: number): void
  /** Closes the server and every open socket (streams in progress are cut). */
  close(): Promise<void>
}

export interface ContainerSkill {
  type: string
  skill_id: string
  version: string
}

export interface StoredFile {
  id: string
  filename: string
  mimeType: string
  createdAt: string
  downloadable: boolean
  data: Buffer
}

export interface StoredSkillVersion {
  id: string
  skillId: string
  name: string
  description: string
  createdAt: string
}

export interface StoredSkill {
  id: string
  displayName: string
  source: 'custom' | 'anthropic'
  createdAt: string
  updatedAt: string
  /** Newest first. */
  versions: StoredSkillVersion[]
}

export interface StoredBatch {
  id: string
  status: 'in_progress' | 'canceling' | 'ended'
  requests: Array<{ custom_id: string; params: Record<string, unknown> }>
  createdAt: number
  endedAt: number | null
  cancelInitiatedAt: number | null
  /** Set when the batch ended after a cancel: every result is `canceled`. */
  canceled: boolean
}

export interface MockState {
  apiKey: string
  frameDelayMs: number
  /** undefined = federation disabled. */
  federationTtlSeconds: number | undefined
  baseUrl: string
  maxRecorded: number
  requests: RecordedRequest[]
  exchanges: FederationExchange[]
  /** Minted access token → expiry (epoch ms). */
  tokens: Map<string, number>
  files: Map<string, StoredFile>
  skills: Map<string, StoredSkill>
  batches: Map<string, StoredBatch>
  /** Container id → skills it was created with (for `container: "<id>"` reuse). */
  containers: Map<string, ContainerSkill[] | null>
  /** Managed Agents objects of every family, by id (managed-agents.ts). */
  managed: Map<string, Record<string, unknown>>
  /** Events sent to each session, by session id, oldest first (managed-agents.ts). */
  sessionEvents: Map<string, Record<string, unknown>[]>
}

/** What one handler needs: the exchange, the shared state, and the recorded request. */
export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  state: MockState
  rec: RecordedRequest
  requestId: string
  query: URLSearchParams
  /** Parsed multipart parts (with data), when the body is multipart. */
  parts: MultipartPart[] | undefined
}
