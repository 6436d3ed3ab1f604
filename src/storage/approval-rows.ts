import { monotonicFactory } from 'ulid'
import { StorageError } from './errors.js'
import type {
  Grant,
  NewReview,
  Review,
  ReviewApprover,
  ReviewDecisionInput,
  ReviewListQuery,
  ReviewRequester,
  ReviewRequestSummary,
  ReviewState,
} from './ports-approvals.js'
import { checkPage, checkTime, readJson, type Stored } from './shared.js'

/** What the review and grant stores share: ids, row mapping, input checks. */

const nextUlid = monotonicFactory()
export const newReviewId = (now: number): string => `rev_${nextUlid(now)}`
export const newGrantId = (now: number): string => `grt_${nextUlid(now)}`

export const isReviewId = (id: string): boolean => /^rev_[0-9A-HJKMNP-TV-Z]{26}$/.test(id)
export const isGrantId = (id: string): boolean => /^grt_[0-9A-HJKMNP-TV-Z]{26}$/.test(id)

/** Row of `reviews` (see `Stored`; summary and requester as JSON text). */
export type ReviewRow = Stored<Omit<Review, 'state' | 'summary' | 'requester'>> & { readonly state: string; readonly summary: string; readonly requester: string }

export const reviewColumns = `id, principal, rule, fingerprint, state, summary, requester, created_at AS "createdAt", expires_at AS "expiresAt",
  decided_at AS "decidedAt", approver, approver_name AS "approverName", reason, grant_id AS "grantId", version`

/**
 * A review as callers see it at `now`: a pending review past its expiry reads as `expired` even
 * before a sweep (`expire`) has written that, so no caller can act on a stale pending state.
 */
export function reviewFromRow(row: ReviewRow, now: number): Review {
  return {
    ...row,
    state: row.state === 'pending' && row.expiresAt <= now ? 'expired' : (row.state as ReviewState),
    summary: readJson<ReviewRequestSummary>(row.summary, `review ${row.id}`),
    requester: readJson<ReviewRequester>(row.requester, `review ${row.id}`),
    createdAt: new Date(row.createdAt),
    expiresAt: new Date(row.expiresAt),
    decidedAt: row.decidedAt === null ? null : new Date(row.decidedAt),
  }
}

export type GrantRow = Stored<Grant>

export const grantColumns = `id, principal, rule, review_id AS "reviewId", approver, created_at AS "createdAt", expires_at AS "expiresAt",
  uses_left AS "usesLeft", revoked_at AS "revokedAt", revoked_by AS "revokedBy"`

export function grantFromRow(row: GrantRow): Grant {
  return { ...row, createdAt: new Date(row.createdAt), expiresAt: new Date(row.expiresAt), revokedAt: row.revokedAt === null ? null : new Date(row.revokedAt) }
}

const reviewStates: readonly string[] = ['pending', 'approved', 'denied', 'expired']

export function checkNewReview(review: NewReview): void {
  for (const key of ['principal', 'rule', 'fingerprint'] as const) {
    if (typeof review[key] !== 'string' || review[key] === '') throw new StorageError('invalid', `${key} must be a non-empty string`)
  }
  if (!review.requester || typeof review.requester.issuer !== 'string' || typeof review.requester.subject !== 'string') {
    throw new StorageError('invalid', 'requester needs issuer and subject')
  }
  if (!review.summary || typeof review.summary.endpoint !== 'string') throw new StorageError('invalid', 'summary needs an endpoint')
  checkTime(review.expiresAt, 'expiresAt')
}

export function checkReviewQuery(query: ReviewListQuery): void {
  checkPage(query, isReviewId)
  if (query.state !== undefined && !reviewStates.includes(query.state)) throw new StorageError('invalid', 'state must be pending, approved, denied or expired')
}

export function checkDecision(input: ReviewDecisionInput): void {
  if (input.decision !== 'approved' && input.decision !== 'denied') throw new StorageError('invalid', 'decision must be approved or denied')
  if (typeof input.approver?.id !== 'string' || input.approver.id === '') throw new StorageError('invalid', 'approver id must be a non-empty string')
  if (input.approver.name !== undefined && typeof input.approver.name !== 'string') throw new StorageError('invalid', 'approver name must be a string')
  if (input.decision === 'approved') {
    if (input.grant === undefined) throw new StorageError('invalid', 'an approval needs the grant it creates')
    checkTime(input.grant.expiresAt, 'grant.expiresAt')
    const uses = input.grant.uses
    if (uses !== null && (!Number.isInteger(uses) || uses < 1)) throw new StorageError('invalid', 'grant.uses must be a positive integer or null')
  }
}

/**
 * Four-eyes rule: the workload that asked can never approve itself, whichever way its identity is
 * spelled: as the principal id, as the bare token subject, or as the same (issuer, subject) pair
 * through a human OIDC issuer that is also a workload issuer.
 */
export function isSelfApproval(review: Pick<Review, 'principal' | 'requester'>, approver: ReviewApprover): boolean {
  if (approver.id === review.principal || approver.id === review.requester.subject) return true
  return approver.subject !== undefined && approver.subject === review.requester.subject && approver.issuer === review.requester.issuer
}

/** Why a decide found nothing to update; read in the same transaction as the failed update. */
export function decideRefusal(id: string, row: ReviewRow | undefined, now: number): StorageError {
  if (row === undefined) return new StorageError('not_found', `review ${id} not found`)
  if (row.state === 'pending' && row.expiresAt <= now) return new StorageError('conflict', `review ${id} has expired`)
  return new StorageError('conflict', `review ${id} is already ${row.state}`)
}

/** Bounds the free-text reason an approver gives (it goes into notifications and the queue). */
export function trimReason(reason: string | undefined): string | null {
  if (reason === undefined || reason === '') return null
  return reason.length > 1_000 ? reason.slice(0, 1_000) : reason
}

/** The approver's display name as kept: trimmed, at most 200 characters, null when blank. */
export function approverName(name: string | undefined): string | null {
  const trimmed = name?.trim() ?? ''
  return trimmed === '' ? null : trimmed.slice(0, 200)
}
