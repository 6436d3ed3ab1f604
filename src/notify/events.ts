import type { ApprovalEvent } from '../approvals/approvals.js'
import type { Grant, RevocationKind } from '../storage/ports.js'

/**
 * What people are told about (SPEC §2 `notify:`): a review waiting for them, its decision or
 * expiry, a grant revoked early, and revocations of principals, tokens and issuers.
 */
export type NotificationEvent =
  | ApprovalEvent
  | { readonly type: 'grant.revoked'; readonly at: Date; readonly grant: Grant }
  | { readonly type: 'revocation'; readonly at: Date; readonly action: 'revoked' | 'lifted'; readonly revocation: RevocationNotice }

export type NotificationType = NotificationEvent['type']

/** A revocation as announced; for a lift only kind and subject are known. */
export interface RevocationNotice {
  readonly kind: RevocationKind
  /** Principal id, token `iss`, or issuer config id. */
  readonly subject: string
  readonly jti?: string | null | undefined
  readonly revokedBefore?: Date | null | undefined
  readonly actor?: string | null | undefined
  readonly reason?: string | null | undefined
}

export interface FormatContext {
  /** `ntf_` id of this notification; also the `skillgate-delivery` header. */
  readonly id: string
  /** The gateway's public base URL, for links into the console (`/ui/`); omitted when unknown. */
  readonly consoleUrl?: string | undefined
}
