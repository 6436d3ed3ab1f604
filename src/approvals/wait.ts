import type { Review, ReviewStore } from '../storage/ports.js'
import { ApprovalError } from './errors.js'
import type { ReviewWatcher } from './review-watcher.js'

export interface WaitOptions {
  /** Longest wait in ms; the wait also ends when the review expires. */
  readonly holdMs: number
  /** Aborted when the client goes away: the wait ends at once with `cancelled`. */
  readonly signal?: AbortSignal | undefined
}

export type WaitOutcome =
  | { readonly outcome: 'approved'; readonly review: Review }
  | { readonly outcome: 'denied'; readonly review: Review }
  | { readonly outcome: 'expired'; readonly review: Review }
  /** The hold ran out first; the review is still pending. */
  | { readonly outcome: 'timeout' }
  | { readonly outcome: 'cancelled' }

function outcomeOf(review: Review): WaitOutcome | undefined {
  if (review.state === 'approved') return { outcome: 'approved', review }
  if (review.state === 'denied') return { outcome: 'denied', review }
  if (review.state === 'expired') return { outcome: 'expired', review }
  return undefined
}

/**
 * Waits for a review's decision, bounded by `holdMs` and by the review's expiry, cancelled by the
 * signal. Nothing here queries per waiter after the first read: the watcher's shared poll (or a
 * local decision) settles it. Rejects with `ApprovalError('not_found')` for an unknown review.
 */
export async function waitForReview(store: ReviewStore, watcher: ReviewWatcher, reviewId: string, options: WaitOptions, now: () => number): Promise<WaitOutcome> {
  if (!Number.isFinite(options.holdMs) || options.holdMs < 0) throw new RangeError('holdMs must be a finite number of milliseconds, 0 or more')
  if (options.signal?.aborted) return { outcome: 'cancelled' }
  const review = await store.get(reviewId)
  if (review === undefined) throw new ApprovalError('not_found', `review ${reviewId} not found`)
  const decided = outcomeOf(review)
  if (decided !== undefined) return decided
  const expiresAt = review.expiresAt.getTime()
  const deadline = Math.min(now() + options.holdMs, expiresAt)
  const signal = options.signal

  return new Promise<WaitOutcome>((resolve) => {
    let done = false
    let stop: () => void = () => undefined
    const finish = (outcome: WaitOutcome): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      stop()
      resolve(outcome)
    }
    const onAbort = (): void => finish({ outcome: 'cancelled' })
    const onDeadline = (): void => finish(now() >= expiresAt ? { outcome: 'expired', review: { ...review, state: 'expired' } } : { outcome: 'timeout' })
    const timer = setTimeout(onDeadline, Math.max(0, deadline - now()))
    signal?.addEventListener('abort', onAbort, { once: true })
    watcher.watch(reviewId, (changed) => {
      const outcome = outcomeOf(changed)
      if (outcome !== undefined) finish(outcome)
    }).then(
      (unwatch) => (done ? unwatch() : (stop = unwatch)),
      // The watcher reports its own errors; without it the wait still ends at the deadline.
      () => undefined,
    )
  })
}
