import crypto from 'node:crypto'

/**
 * Slack request signing (api.slack.com/authentication/verifying-requests-from-slack):
 * `x-slack-signature: v0=<hex HMAC-SHA256 of "v0:{x-slack-request-timestamp}:{raw body}">` with the
 * app's signing secret. A timestamp more than five minutes from now is refused whatever its
 * signature, so a captured request cannot be replayed later; within the window `ReplayGuard`
 * refuses a signature seen before.
 */

export const slackSignatureWindowSeconds = 300

export type SignatureCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'missing' | 'stale' | 'mismatch' }

export interface SignedRequest {
  /** `x-slack-request-timestamp`: Unix seconds, as a decimal string. */
  readonly timestamp: string | undefined
  /** `x-slack-signature`. */
  readonly signature: string | undefined
  /** The raw body bytes exactly as received (form-encoded; never re-serialised). */
  readonly body: Buffer
}

export function signSlackRequest(signingSecret: string, timestamp: string, body: Buffer | string): string {
  const mac = crypto.createHmac('sha256', signingSecret)
  mac.update(`v0:${timestamp}:`, 'utf8')
  mac.update(body)
  return `v0=${mac.digest('hex')}`
}

export function verifySlackSignature(signingSecret: string, request: SignedRequest, nowSeconds: number): SignatureCheck {
  const { timestamp, signature } = request
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing' }
  if (Math.abs(nowSeconds - Number(timestamp)) > slackSignatureWindowSeconds) return { ok: false, reason: 'stale' }
  const expected = Buffer.from(signSlackRequest(signingSecret, timestamp, request.body), 'utf8')
  const given = Buffer.from(signature, 'utf8')
  // Equal lengths first: timingSafeEqual throws otherwise, and a length mismatch reveals nothing secret.
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return { ok: false, reason: 'mismatch' }
  return { ok: true }
}

/**
 * Remembers verified signatures for the length of the window: a signed request delivered twice
 * is accepted once. Bounded: entries older than the window are dropped as new ones arrive, and the
 * window itself bounds how many a sender can make us keep.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>()
  readonly #maxEntries: number

  constructor(maxEntries = 100_000) {
    this.#maxEntries = maxEntries
  }

  /** True the first time a signature is seen within the window; false for a replay (or when full). */
  firstUse(signature: string, nowSeconds: number): boolean {
    this.#forgetBefore(nowSeconds - slackSignatureWindowSeconds * 2)
    if (this.#seen.has(signature)) return false
    // Full of fresh signatures: refuse rather than forget one that could then be replayed.
    if (this.#seen.size >= this.#maxEntries) return false
    this.#seen.set(signature, nowSeconds)
    return true
  }

  #forgetBefore(cutoff: number): void {
    // Insertion order is arrival order, so the oldest come first.
    for (const [signature, at] of this.#seen) {
      if (at >= cutoff) return
      this.#seen.delete(signature)
    }
  }
}
