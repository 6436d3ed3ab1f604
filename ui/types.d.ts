/**
 * The admin API's JSON shapes, as far as the console reads them (docs/admin-api.md; the server's
 * own types are in src/audit/record.ts and src/storage/ports*.ts). Ambient, so the console's
 * JSDoc can name them without imports. Type-checked by `tsc -p ui/tsconfig.json`; never served.
 */

interface AuditReason { code: string; detail?: string }
interface AuditUsage { inputTokens: number; outputTokens: number; cacheCreationInputTokens: number; cacheReadInputTokens: number }
interface AuditLatency { totalMs: number | null; firstByteMs: number | null; upstreamMs: number | null }
interface AuditStreamEvent { t: number; event: string; data: string }
type AuditResponse =
  | { kind: 'json'; contentType: string | null; bytes: number; body: unknown }
  | { kind: 'sse'; contentType: string | null; bytes: number; message: unknown; events: AuditStreamEvent[]; truncated: boolean }
  | { kind: 'opaque'; contentType: string | null; bytes: number }

interface AuditRecord {
  id: string
  time: { start: string; firstByte: string | null; end: string | null }
  principal: string | null
  issuer: string | null
  sub: string | null
  claims: Record<string, string | number | boolean>
  rule: string | null
  decision: 'allow' | 'deny' | 'approval_required'
  reasons: AuditReason[]
  reviewId: string | null
  endpoint: string
  model: string | null
  skills: string[]
  tools: string[]
  containerId: string | null
  /** Claude Code's x-claude-code-session-id. */
  clientSession: string | null
  status: number | null
  upstreamRequestId: string | null
  usage: AuditUsage | null
  latency: AuditLatency | null
  content: 'masked' | 'metadata'
  request: { method: string; path: string; bytes: number; body: unknown }
  response: AuditResponse | null
  maskHits: { request: Record<string, number>; response: Record<string, number> }
  outcome: 'completed' | 'interrupted' | 'denied' | 'error' | 'open'
  error: string | null
  prevHash: string
  hash: string
}
interface AuditPage { records: AuditRecord[]; nextCursor: string | null }

type ReviewState = 'pending' | 'approved' | 'denied' | 'expired'
interface Review {
  id: string
  principal: string
  rule: string
  state: ReviewState
  summary: { endpoint: string; model: string | null; skills: string[]; tools: string[]; requestId: string; source?: { repository?: string; workflow?: string; ref?: string; run?: string; runUrl?: string } }
  requester: { issuer: string; subject: string }
  createdAt: string
  expiresAt: string
  decidedAt: string | null
  approver: string | null
  /** The approver's display name when the sign-in carried one. */
  approverName: string | null
  reason: string | null
  grantId: string | null
  version: number
}
interface Grant {
  id: string
  principal: string
  rule: string
  reviewId: string
  approver: string
  createdAt: string
  expiresAt: string
  usesLeft: number | null
  revokedAt: string | null
  revokedBy: string | null
}
interface Revocation {
  kind: 'principal' | 'token' | 'issuer'
  subject: string
  jti: string | null
  revokedBefore: string | null
  expiresAt: string | null
  reason: string | null
  actor: string | null
  createdAt: string
}
interface Explanation {
  issuer: string
  decision: { effect: 'allow' | 'deny'; rule?: string; principal?: string; reasons: AuditReason[]; deniedBy?: AuditReason }
  endpoint: { name: string; inspectBody: boolean }
  facts: unknown
  text: string
}
