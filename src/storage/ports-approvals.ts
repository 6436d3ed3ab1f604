import type { CiSource } from '../approvals/ci-source.js'
import type { CursorPage, PageQuery } from './ports.js'

/**
 * Ports for human approval (SPEC §2 `approval:`): reviews waiting for a decision and the
 * just-in-time grants an approval creates. Both live in the shared store so every worker and
 * replica sees the same queue and the same grants (SPEC §7: within one second). Like every port,
 * methods reject only with a `StorageError`.
 */

export type ReviewState = 'pending' | 'approved' | 'denied' | 'expired'
export type ReviewDecisionKind = 'approved' | 'denied'

/** What the approver is shown about the request that asked; never prompt text or a token. */
export interface ReviewRequestSummary {
  readonly endpoint: string
  /** The model of the request; null when it names none (models, files). */
  readonly model: string | null
  readonly skills: readonly string[]
  readonly tools: readonly string[]
  /** The gateway request id of the request that opened the review. */
  readonly requestId: string
  /** The CI job that asked (repository, workflow, run, link), from its token's claims; absent in older reviews. */
  readonly source?: CiSource
}

/** The workload that asked: its verified token's issuer and subject. */
export interface ReviewRequester {
  /** The token `iss`. */
  readonly issuer: string
  /** The token `sub`. */
  readonly subject: string
}

export interface NewReview {
  readonly principal: string
  readonly rule: string
  /**
   * Identifies "the same request" for de-duplication: a retry with the same fingerprint while a
   * review is pending joins that review instead of opening another.
   */
  readonly fingerprint: string
  readonly summary: ReviewRequestSummary
  readonly requester: ReviewRequester
  readonly expiresAt: Date
}

export interface Review {
  /** `rev_` + ULID (sorts by creation time). */
  readonly id: string
  readonly principal: string
  readonly rule: string
  readonly fingerprint: string
  readonly state: ReviewState
  readonly summary: ReviewRequestSummary
  readonly requester: ReviewRequester
  readonly createdAt: Date
  /** A pending review past this time is expired (and can no longer be decided). */
  readonly expiresAt: Date
  readonly decidedAt: Date | null
  /** The approver's id (approved or denied); null while pending or when expired. */
  readonly approver: string | null
  /** The approver's display name when one was known (an OIDC `name`, an admin token's name); null otherwise. */
  readonly approverName: string | null
  readonly reason: string | null
  /** The grant an approval created. */
  readonly grantId: string | null
  /** The store version of this review's last change (see `ReviewStore.changedSince`). */
  readonly version: number
}

/** Who decides. `iss`/`sub` are set for a human signed in with OIDC, so self-approval is caught across id schemes. */
export interface ReviewApprover {
  /** Stable id shown in the audit and the queue, e.g. `oidc:alice@example.com` or an admin token name. */
  readonly id: string
  /** Shown next to the id (`Alice Example`); kept with the decision, at most 200 characters. */
  readonly name?: string | undefined
  readonly issuer?: string | undefined
  readonly subject?: string | undefined
}

export interface ReviewDecisionInput {
  readonly decision: ReviewDecisionKind
  readonly approver: ReviewApprover
  readonly reason?: string | undefined
  /** Approved only: the grant to create in the same transaction. */
  readonly grant?: { readonly expiresAt: Date; readonly uses: number | null } | undefined
}

export interface ReviewDecisionResult {
  readonly review: Review
  /** The grant the approval created; null on a denial. */
  readonly grant: Grant | null
}

export interface ReviewListQuery extends PageQuery {
  readonly state?: ReviewState | undefined
  readonly principal?: string | undefined
  readonly rule?: string | undefined
}

export interface ReviewPage extends CursorPage {
  /** Newest first. */
  readonly reviews: readonly Review[]
}

export interface ReviewCreateResult {
  readonly review: Review
  /** False when a pending review for the same principal, rule and fingerprint was returned instead. */
  readonly created: boolean
}

export interface ReviewStore {
  /**
   * Opens a pending review, or returns the pending one for the same (principal, rule, fingerprint)
   * so retries do not flood approvers. Atomic across processes: concurrent calls yield one review.
   */
  create(review: NewReview): Promise<ReviewCreateResult>
  get(id: string): Promise<Review | undefined>
  list(query: ReviewListQuery): Promise<ReviewPage>
  /**
   * Decides a pending review, atomically: only from `pending` and before `expiresAt`; an approval
   * creates `input.grant` in the same transaction. Rejects with `not_found` for an unknown id,
   * `conflict` when the review is no longer pending (decided, or expired), `forbidden` when the
   * approver is the requester (same id as the principal or the token subject, or the same
   * issuer and subject), `invalid` for an approval without a grant.
   */
  decide(id: string, input: ReviewDecisionInput): Promise<ReviewDecisionResult>
  /** Marks pending reviews past their expiry `expired`; returns them (for notifications). */
  expire(now?: Date): Promise<Review[]>
  /** Monotonically increasing; every create, decide and expire moves it. One single-row read. */
  version(): Promise<number>
  /** Reviews changed after `version`, oldest change first, at most `limit` (default 500). */
  changedSince(version: number, limit?: number): Promise<Review[]>
  /**
   * Calls `onChange` soon after any process commits a review change, where the store can push it
   * (PostgreSQL NOTIFY); resolves to the function that stops it. Absent where it cannot (SQLite):
   * watchers then rely on polling `version()`, as they also do if the subscription fails.
   */
  subscribe?(onChange: () => void): Promise<() => Promise<void>>
  /** Keeps where a notification `target` (e.g. `slack:C0APPROVALS`) posted this review's message; a later call replaces it. */
  saveMessage(reviewId: string, target: string, at: ReviewMessage): Promise<void>
  /** Where `target` posted this review's message, if it was kept. */
  findMessage(reviewId: string, target: string): Promise<ReviewMessage | undefined>
}

/** A posted notification message: its channel and its id there (Slack's `ts`). */
export interface ReviewMessage {
  readonly channel: string
  readonly ts: string
}

export interface Grant {
  /** `grt_` + ULID. */
  readonly id: string
  readonly principal: string
  readonly rule: string
  readonly reviewId: string
  readonly approver: string
  readonly createdAt: Date
  readonly expiresAt: Date
  /** Uses left; null = unlimited until `expiresAt`. */
  readonly usesLeft: number | null
  readonly revokedAt: Date | null
  readonly revokedBy: string | null
}

export interface GrantListQuery extends PageQuery {
  readonly principal?: string | undefined
  readonly rule?: string | undefined
  /** Only grants usable now (not revoked, not expired, uses left). */
  readonly active?: boolean | undefined
}

export interface GrantPage extends CursorPage {
  /** Newest first. */
  readonly grants: readonly Grant[]
}

export interface GrantStore {
  /** The usable grant for (principal, rule) that expires first, if any. Reads the store every call. */
  activeFor(principal: string, rule: string, now?: Date): Promise<Grant | undefined>
  /**
   * Takes one use, atomically: resolves false when the grant is revoked, expired or used up (a
   * concurrent request took the last use). Unlimited grants only check that they are usable.
   */
  consume(grantId: string, now?: Date): Promise<boolean>
  get(id: string): Promise<Grant | undefined>
  list(query: GrantListQuery): Promise<GrantPage>
  /** Revokes a grant at once; idempotent. Rejects with `not_found` for an unknown id. */
  revoke(id: string, actor: string): Promise<Grant>
}
