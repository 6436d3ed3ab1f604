/**
 * A signed chain head (issue #16): a statement, signed by the gateway's audit key, that the chain
 * had `hash` at `position` at `time`. Because every link hash covers all links before it, one head
 * vouches for the whole chain up to its position; kept outside the store (sinks, an operator's
 * download of /admin/api/audit/heads), heads let `audit verify --heads` notice records cut off
 * either end, which no hash inside the store can.
 */

export const headType = 'skillgate.audit.head'

/**
 * Why a head was signed, when it states more than "the chain was here":
 * - `checkpoint`: retention removed every link up to `position` on purpose (the checkpoint's hash);
 * - `restore`: the store was restored from a backup that ends at `position`; heads signed earlier
 *   than this one beyond `position` (up to `lost.to`, or all when null) are declared lost.
 */
export type HeadEvent = 'checkpoint' | 'restore'

export interface HeadPayload {
  readonly type: typeof headType
  readonly v: 1
  readonly position: number
  readonly hash: string
  /** ISO 8601, the signer's clock. */
  readonly time: string
  /** The writer (Storage instance) that signed. */
  readonly writer: string
  readonly event?: HeadEvent
  /** restore only: the positions the restore lost (`to` null: every position signed before it). */
  readonly lost?: { readonly from: number; readonly to: number | null }
  /**
   * checkpoint only (ISO 8601): retention removed records committed before this time. Links after
   * a head were written after it was signed, so a head signed after `before` at a position the
   * checkpoint removed shows the checkpoint removed newer records (see head-verifier.ts).
   */
  readonly before?: string
}

/** A head as the store keeps it for `GET /admin/api/audit/heads`. */
export interface StoredHead {
  readonly position: number
  /** ms since the epoch (the payload's `time`). */
  readonly time: number
  readonly writer: string
  readonly event: HeadEvent | null
  readonly jws: string
  /** The RFC 3161 TimeStampToken over `jws` (DER, base64), when `audit.timestamping` obtained one. */
  readonly timestamp?: string | null
}

/** One line of a sink (and one item of the heads endpoint, where `type` is left out). */
export interface AuditHeadLine {
  readonly type: 'audit_head'
  readonly jws: string
  /** The RFC 3161 TimeStampToken over the JWS bytes (DER, base64); absent without one. */
  readonly timestamp?: string
}

const hex64 = /^[0-9a-f]{64}$/

/** The payload's shape, or a reason it is not one (a verifier never trusts a signed blob's shape). */
export function checkPayload(value: unknown): HeadPayload | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'payload is not a JSON object'
  const p = value as Record<string, unknown>
  if (p.type !== headType || p.v !== 1) return `payload is not a ${headType} v1`
  if (!isPosition(p.position)) return 'payload position is not a non-negative integer'
  if (typeof p.hash !== 'string' || !hex64.test(p.hash)) return 'payload hash is not a SHA-256 hex digest'
  if (typeof p.time !== 'string' || !Number.isFinite(Date.parse(p.time))) return 'payload time is not an ISO 8601 time'
  if (typeof p.writer !== 'string' || p.writer === '') return 'payload writer is missing'
  if (p.event !== undefined && p.event !== 'checkpoint' && p.event !== 'restore') return 'payload event is unknown'
  if (p.before !== undefined && (p.event !== 'checkpoint' || typeof p.before !== 'string' || !Number.isFinite(Date.parse(p.before)))) return 'payload before is not the ISO 8601 time of a checkpoint'
  if (p.event === 'restore') {
    const lost = p.lost as Record<string, unknown> | undefined
    if (typeof lost !== 'object' || lost === null || !isPosition(lost.from) || !(lost.to === null || isPosition(lost.to))) return 'restore payload has no valid lost range'
  }
  return p as unknown as HeadPayload
}

function isPosition(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** A JSON value, or undefined for text that is not JSON: readers of heads and links report it rather than throw. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
