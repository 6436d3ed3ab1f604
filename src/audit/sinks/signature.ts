import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Webhook signatures: `skillgate-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * The timestamp is signed with the body so a captured delivery cannot be replayed later than the
 * receiver's tolerance (the scheme Stripe and others use; receivers already know how to check it).
 */
export const signatureHeader = 'skillgate-signature'

export function signWebhookBody(secret: string, body: string, timestampSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')
  return `t=${timestampSeconds},v1=${mac}`
}

export interface VerifySignatureOptions {
  /** Largest accepted age (and future skew) of the timestamp; default 300 s. */
  readonly toleranceSeconds?: number
  /** Current time in unix seconds; default now. */
  readonly nowSeconds?: number
}

/**
 * For receivers: true when one `v1` value matches and the timestamp is within tolerance.
 *
 * @example
 * if (!verifyWebhookSignature(secret, rawBody, req.headers['skillgate-signature'])) return reply(401)
 */
export function verifyWebhookSignature(secret: string, body: string, header: string | undefined, options: VerifySignatureOptions = {}): boolean {
  if (header === undefined) return false
  const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined])
  const t = Number(parts.find(([k]) => k === 't')?.[1])
  if (!Number.isInteger(t)) return false
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000)
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'))
  return parts.some(([k, v]) => k === 'v1' && v !== undefined && v.length === expected.length && timingSafeEqual(Buffer.from(v), expected))
}
