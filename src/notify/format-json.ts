import type { Review } from '../storage/ports.js'
import type { FormatContext, NotificationEvent } from './events.js'

/**
 * The generic JSON body: `{id, type, at, review?, grant?, revocation?, actions?}`, times as ISO 8601
 * strings. Signed like audit webhooks (`skillgate-signature`), so receivers reuse one verifier.
 */
export function formatJson(event: NotificationEvent, ctx: FormatContext): string {
  const base = { id: ctx.id, type: event.type, at: event.at.toISOString() }
  switch (event.type) {
    case 'review.created':
      return JSON.stringify({ ...base, review: reviewView(event.review), actions: reviewActions(event.review, ctx) })
    case 'review.decided':
      return JSON.stringify({ ...base, review: reviewView(event.review), grant: event.grant, ...(event.approverName === undefined ? {} : { approverName: event.approverName }) })
    case 'review.expired':
      return JSON.stringify({ ...base, review: reviewView(event.review) })
    case 'grant.revoked':
      return JSON.stringify({ ...base, grant: event.grant })
    case 'revocation':
      return JSON.stringify({ ...base, action: event.action, revocation: { jti: null, revokedBefore: null, actor: null, reason: null, ...event.revocation } })
  }
}

/** The review without store internals (fingerprint, version). */
export function reviewView(review: Review): Omit<Review, 'fingerprint' | 'version'> {
  const { fingerprint: _fingerprint, version: _version, ...view } = review
  return view
}

/** How an approver acts on a review: the CLI commands, and the console page when its URL is known. */
export function reviewActions(review: Review, ctx: FormatContext): { approve: string; deny: string; url?: string } {
  const actions = { approve: `skillgate reviews approve ${review.id}`, deny: `skillgate reviews deny ${review.id}` }
  return ctx.consoleUrl === undefined ? actions : { ...actions, url: reviewUrl(ctx.consoleUrl, review.id) }
}

export function reviewUrl(consoleUrl: string, reviewId: string): string {
  return new URL(`ui/reviews/${encodeURIComponent(reviewId)}`, consoleUrl.endsWith('/') ? consoleUrl : `${consoleUrl}/`).toString()
}
