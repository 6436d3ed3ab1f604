import type { Decision } from '../policy/decision.js'
import { StorageError } from '../storage/errors.js'
import type { Grant, GrantStore, Review, ReviewRequester, ReviewRequestSummary, ReviewStore } from '../storage/ports.js'
import { ApprovalError } from './errors.js'
import { requestFingerprint, type FingerprintEntry } from './fingerprint.js'
import { ReviewWatcher } from './review-watcher.js'
import { approvalSettings, type ApprovalRule, type ApprovalSettings } from './settings.js'
import { waitForReview, type WaitOptions, type WaitOutcome } from './wait.js'

/**
 * Human approval for rules with `approval.required` (SPEC §2, §4): a request either uses a live
 * just-in-time grant for its principal and rule, or opens (or joins) a review and is answered
 * `approval_required` naming it, optionally after holding the connection open for the decision.
 * An approval creates a time-boxed grant; retries of the request then pass on that grant.
 * Pure domain: storage ports in, plain results out; the HTTP mapping is the caller's.
 */

export interface AdmitInput {
  /** The policy decision; only an allow with a rule and principal can need approval. */
  readonly decision: Decision
  /** Who asked: the verified token's `iss` and `sub`. */
  readonly requester: ReviewRequester
  readonly summary: ReviewRequestSummary
  /** What each body asks for (one per batch entry): in the fingerprint, so different batches open different reviews. */
  readonly entries?: readonly FingerprintEntry[]
}

export type Admission =
  /** The rule needs no approval (or the decision is not an allow: nothing to approve). */
  | { readonly kind: 'not_required' }
  /** A use of a live grant was taken. */
  | { readonly kind: 'granted'; readonly grant: Grant }
  /** No grant: this review must be decided first. `created` is false when a retry joined it. */
  | { readonly kind: 'approval_required'; readonly review: Review; readonly created: boolean; readonly settings: ApprovalSettings }

/**
 * One MCP tool call (docs/mcp.md): its approval is bound to `fingerprint` (server, tool, SHA-256 of the
 * canonical arguments, principal, rule), so a grant approved for one call never admits another. Its
 * reviews and grants are kept under `mcpReviewRule(rule)`, which no `/v1` request can use.
 */
export interface BoundAdmitInput {
  readonly rule: string
  readonly principal: string
  readonly fingerprint: string
  readonly requester: ReviewRequester
  readonly summary: ReviewRequestSummary
}

/** The rule name MCP tool-call reviews and grants are filed under: never a config rule id (ids have no "#"). */
export const mcpReviewRule = (rule: string): string => `${rule}#mcp`

export type GateResult =
  | Exclude<Admission, { kind: 'approval_required' }>
  /** Still waiting (no hold, hold timed out, client gone, or the grant's last use went to another request). */
  | { readonly kind: 'approval_required'; readonly review: Review; readonly waited: WaitOutcome['outcome'] | 'no_hold' }
  | { readonly kind: 'denied'; readonly review: Review }

export interface Approver {
  /** Stable id recorded as the approver (`token:<name>`, `oidc:<issuer id>:<sub>`, `slack:<user id>`). */
  readonly id: string
  /** The person's or token's name, for messages (`Approved by Alice Example`). */
  readonly name?: string | undefined
  readonly roles: readonly string[]
  /** For a human signed in with OIDC: their token's `iss` and `sub` (self-approval check). */
  readonly issuer?: string | undefined
  readonly subject?: string | undefined
}

export interface DecideInput {
  readonly decision: 'approved' | 'denied'
  readonly approver: Approver
  readonly reason?: string | undefined
}

export type ApprovalEvent =
  | { readonly type: 'review.created'; readonly at: Date; readonly review: Review }
  | { readonly type: 'review.decided'; readonly at: Date; readonly review: Review; readonly grant: Grant | null; readonly approverName?: string | undefined }
  | { readonly type: 'review.expired'; readonly at: Date; readonly review: Review }

export interface ApprovalsDeps {
  readonly reviews: ReviewStore
  readonly grants: GrantStore
  /** The configured rules (`config.rules`); only `id` and `approval` are read. */
  readonly rules: readonly ApprovalRule[]
  readonly now?: (() => number) | undefined
  /** Review version poll while requests are held; default 500 ms. */
  readonly pollMs?: number | undefined
  /**
   * The process's watcher, shared across configuration reloads so a held request wakes on its
   * decision whichever configuration decided it and however long ago the reload was; `close()`
   * leaves a shared watcher running. Default: a watcher of this instance's own.
   */
  readonly watcher?: ReviewWatcher | undefined
  /** Expiry sweep; default 30 s; 0 disables the timer (call `sweep()` yourself). */
  readonly sweepMs?: number | undefined
  /** New review, decision, expiry: hand to `notify`. Must not throw. */
  readonly onEvent?: ((event: ApprovalEvent) => void) | undefined
  readonly onError?: ((error: Error) => void) | undefined
}

export interface Approvals {
  /** Grant → consume a use; otherwise open or join a review. Never waits for a human. */
  admit(input: AdmitInput): Promise<Admission>
  /** `admit`, then hold for the decision as the rule's `hold` says; an approval consumes the new grant. */
  gate(input: AdmitInput, options: { readonly signal?: AbortSignal | undefined }): Promise<GateResult>
  waitForDecision(reviewId: string, options: WaitOptions): Promise<WaitOutcome>
  /** `gate` for one MCP tool call: only a grant whose review has this fingerprint admits it. */
  gateBound(input: BoundAdmitInput, options: { readonly signal?: AbortSignal | undefined }): Promise<GateResult>
  /** An approver decides. Throws `ApprovalError` (not_found, not_pending, self_approval, not_approver) or `StorageError`. */
  decide(reviewId: string, input: DecideInput): Promise<{ review: Review; grant: Grant | null }>
  /** Marks due reviews expired (also on a timer); returns them. */
  sweep(): Promise<Review[]>
  settingsFor(ruleId: string): ApprovalSettings
  close(): void
}

export function createApprovals(deps: ApprovalsDeps): Approvals {
  return new ApprovalService(deps)
}

class ApprovalService implements Approvals {
  readonly #deps: ApprovalsDeps
  readonly #now: () => number
  readonly #onError: (error: Error) => void
  readonly #settings: ReadonlyMap<string, ApprovalSettings>
  readonly #watcher: ReviewWatcher
  readonly #ownWatcher: boolean
  readonly #timer: NodeJS.Timeout | undefined

  constructor(deps: ApprovalsDeps) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
    this.#onError = deps.onError ?? (() => undefined)
    // MCP tool-call reviews are decided under the rule's own approvers, grant lifetime, uses and hold.
    this.#settings = new Map(deps.rules.flatMap((rule) => [[rule.id, approvalSettings(rule.approval)], [mcpReviewRule(rule.id), approvalSettings(rule.approval)]] as const))
    this.#ownWatcher = deps.watcher === undefined
    this.#watcher = deps.watcher ?? new ReviewWatcher(deps.reviews, { pollMs: deps.pollMs, onError: this.#onError })
    const sweepMs = deps.sweepMs ?? 30_000
    this.#timer = sweepMs > 0 ? setInterval(() => void this.sweep().catch((error: unknown) => this.#onError(error as Error)), sweepMs) : undefined
    this.#timer?.unref()
  }

  settingsFor(ruleId: string): ApprovalSettings {
    return this.#settings.get(ruleId) ?? approvalSettings(undefined)
  }

  async admit(input: AdmitInput): Promise<Admission> {
    const { decision } = input
    if (decision.effect !== 'allow' || decision.rule === undefined || decision.principal === undefined) return { kind: 'not_required' }
    const rule = this.settingsFor(decision.rule)
    if (!rule.required) return { kind: 'not_required' }
    const grant = await this.#useGrant(decision.principal, decision.rule)
    if (grant !== undefined) return { kind: 'granted', grant }
    const at = this.#now()
    const { review, created } = await this.#deps.reviews.create({
      principal: decision.principal,
      rule: decision.rule,
      fingerprint: requestFingerprint(decision.principal, decision.rule, input.summary, input.entries),
      summary: input.summary,
      requester: input.requester,
      expiresAt: new Date(at + rule.reviewTtlMs),
    })
    if (created) this.#emit({ type: 'review.created', at: new Date(at), review })
    return { kind: 'approval_required', review, created, settings: rule }
  }

  async gate(input: AdmitInput, options: { readonly signal?: AbortSignal | undefined }): Promise<GateResult> {
    return this.#holdFor(() => this.admit(input), options.signal)
  }

  async gateBound(input: BoundAdmitInput, options: { readonly signal?: AbortSignal | undefined }): Promise<GateResult> {
    return this.#holdFor(() => this.#admitBound(input), options.signal)
  }

  /** Admits, or holds the call until its review is decided (the rule's `hold`), then admits again. */
  async #holdFor(admit: () => Promise<Admission>, signal: AbortSignal | undefined): Promise<GateResult> {
    const admission = await admit()
    if (admission.kind !== 'approval_required') return admission
    const { review, settings: rule } = admission
    if (rule.holdMs <= 0) return { kind: 'approval_required', review, waited: 'no_hold' }
    const waited = await this.waitForDecision(review.id, { holdMs: rule.holdMs, signal })
    if (waited.outcome === 'denied') return { kind: 'denied', review: waited.review }
    if (waited.outcome !== 'approved') return { kind: 'approval_required', review: 'review' in waited ? waited.review : review, waited: waited.outcome }
    // The approval created a grant; take a use of it like any later request would. Another
    // request may have taken its last use first: then this one needs a new approval.
    const again = await admit()
    if (again.kind === 'approval_required') return { kind: 'approval_required', review: again.review, waited: 'approved' }
    return again
  }

  async #admitBound(input: BoundAdmitInput): Promise<Exclude<Admission, { kind: 'not_required' }>> {
    const rule = mcpReviewRule(input.rule)
    const settings = this.settingsFor(rule)
    const grant = await this.#useBoundGrant(input.principal, rule, input.fingerprint)
    if (grant !== undefined) return { kind: 'granted', grant }
    const at = this.#now()
    const { review, created } = await this.#deps.reviews.create({
      principal: input.principal,
      rule,
      fingerprint: input.fingerprint,
      summary: input.summary,
      requester: input.requester,
      expiresAt: new Date(at + settings.reviewTtlMs),
    })
    if (created) this.#emit({ type: 'review.created', at: new Date(at), review })
    return { kind: 'approval_required', review, created, settings }
  }

  /** A live grant of (principal, rule) whose review was opened for exactly this fingerprint; one use taken. */
  async #useBoundGrant(principal: string, rule: string, fingerprint: string): Promise<Grant | undefined> {
    const { grants } = await this.#deps.grants.list({ principal, rule, active: true, limit: 100 })
    for (const grant of grants) {
      const review = await this.#deps.reviews.get(grant.reviewId)
      if (review?.fingerprint !== fingerprint) continue
      if (await this.#deps.grants.consume(grant.id, new Date(this.#now()))) return { ...grant, usesLeft: grant.usesLeft === null ? null : grant.usesLeft - 1 }
    }
    return undefined
  }

  waitForDecision(reviewId: string, options: WaitOptions): Promise<WaitOutcome> {
    return waitForReview(this.#deps.reviews, this.#watcher, reviewId, options, this.#now)
  }

  async decide(reviewId: string, input: DecideInput): Promise<{ review: Review; grant: Grant | null }> {
    const review = await this.#deps.reviews.get(reviewId)
    if (review === undefined) throw new ApprovalError('not_found', `review ${reviewId} not found`)
    const rule = this.settingsFor(review.rule)
    if (!input.approver.roles.some((role) => rule.approverRoles.includes(role))) {
      throw new ApprovalError('not_approver', `deciding review ${reviewId} needs one of the roles ${rule.approverRoles.join(', ')}`)
    }
    const at = this.#now()
    const { approver } = input
    try {
      // The store re-checks pending, expiry and self-approval in the transaction that decides.
      const result = await this.#deps.reviews.decide(reviewId, {
        decision: input.decision,
        approver: { id: approver.id, name: approver.name, issuer: approver.issuer, subject: approver.subject },
        reason: input.reason,
        grant: input.decision === 'approved' ? { expiresAt: new Date(at + rule.grantTtlMs), uses: rule.uses } : undefined,
      })
      this.#watcher.wake(result.review)
      this.#emit({ type: 'review.decided', at: new Date(at), review: result.review, grant: result.grant, approverName: result.review.approverName ?? undefined })
      return result
    } catch (error) {
      throw toApprovalError(error, reviewId)
    }
  }

  async sweep(): Promise<Review[]> {
    const expired = await this.#deps.reviews.expire(new Date(this.#now()))
    for (const review of expired) {
      this.#watcher.wake(review)
      this.#emit({ type: 'review.expired', at: new Date(this.#now()), review })
    }
    return expired
  }

  close(): void {
    clearInterval(this.#timer)
    if (this.#ownWatcher) this.#watcher.close()
  }

  async #useGrant(principal: string, rule: string): Promise<Grant | undefined> {
    // A concurrent request may take the last use between the read and the update: look again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const grant = await this.#deps.grants.activeFor(principal, rule, new Date(this.#now()))
      if (grant === undefined) return undefined
      if (await this.#deps.grants.consume(grant.id, new Date(this.#now()))) return { ...grant, usesLeft: grant.usesLeft === null ? null : grant.usesLeft - 1 }
    }
    return undefined
  }

  #emit(event: ApprovalEvent): void {
    try {
      this.#deps.onEvent?.(event)
    } catch (error) {
      // A notification problem must never change the outcome of a request or a decision.
      this.#onError(error as Error)
    }
  }
}

function toApprovalError(error: unknown, reviewId: string): unknown {
  if (!StorageError.is(error)) return error
  if (error.code === 'forbidden') return new ApprovalError('self_approval', `review ${reviewId}: the requester cannot approve its own request`)
  if (error.code === 'conflict') return new ApprovalError('not_pending', error.message)
  if (error.code === 'not_found') return new ApprovalError('not_found', error.message)
  return error
}
