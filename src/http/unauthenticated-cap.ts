import type { IncomingMessage } from 'node:http'
import type { Logger } from 'pino'
import type { ClientAddresses } from './client-address.js'

/**
 * `listen.unauthenticatedPerMinute`: how many unauthenticated refusals (401s, and anything else a
 * request without a verified identity was refused with) one client address may cause per UTC
 * minute. Past it, that address's `/v1` requests are refused with 429 before any token is parsed,
 * verified, logged in full or audited, until the minute ends: a flood of bad tokens costs the
 * gateway a map lookup each. A client with a valid token is never counted, so it is held up only
 * while it shares an address with one that floods.
 */
export interface UnauthenticatedCap {
  /** Seconds until the address may try again, or 0 when it is under its cap. */
  retryAfter(address: string, nowMs: number): number
  /** One more unauthenticated refusal caused by `address`; true when this one reached the cap. */
  count(address: string, nowMs: number): boolean
}

const minuteMs = 60_000

/**
 * @param maxAddresses the most addresses tracked at once: past it the counts of past minutes are
 *   dropped, then (a flood from that many addresses within one minute) every new address shares one
 *   count, so memory stays bounded whatever the number of sources.
 */
export function unauthenticatedCap(perMinute: number, maxAddresses = 50_000): UnauthenticatedCap {
  const counts = new Map<string, { minute: number; refusals: number }>()
  const overflow = '(other addresses)'
  const keyOf = (address: string) => (counts.has(address) || counts.size < maxAddresses ? address : overflow)
  let sweptMinute = Number.NEGATIVE_INFINITY

  /** At most once a minute: a full map of this minute's addresses is not walked again per request. */
  function dropPastMinutes(minute: number): void {
    if (minute === sweptMinute) return
    sweptMinute = minute
    for (const [address, entry] of counts) if (entry.minute !== minute) counts.delete(address)
  }

  return {
    retryAfter(address, nowMs) {
      const minute = Math.floor(nowMs / minuteMs)
      const entry = counts.get(keyOf(address))
      if (!entry || entry.minute !== minute || entry.refusals < perMinute) return 0
      return Math.max(1, Math.ceil(((minute + 1) * minuteMs - nowMs) / 1000))
    },
    count(address, nowMs) {
      const minute = Math.floor(nowMs / minuteMs)
      if (!counts.has(address) && counts.size >= maxAddresses) dropPastMinutes(minute)
      const key = keyOf(address)
      const entry = counts.get(key)
      if (!entry || entry.minute !== minute) counts.set(key, { minute, refusals: 1 })
      else entry.refusals++
      return (entry && entry.minute === minute ? entry.refusals : 1) === perMinute
    },
  }
}

/**
 * The same per-address cap and metric for routes outside the pipeline that anyone may call
 * (`POST /v1/oauth/token`): one budget per address across `/v1/*` and the token endpoint.
 */
export interface AnonymousGate {
  /** The client address (`listen.trustedProxies` applied). */
  addressOf(req: IncomingMessage): string
  /** Seconds until `address` may try again, or 0. */
  retryAfter(address: string): number
  /** A refusal of a request without a verified identity: counted in the metric and against the cap. */
  refused(address: string, code: string): void
}

/** One gate per listener: the `/v1` requests and the token endpoint share the address's budget. */
export function anonymousGate(parts: {
  readonly clients: ClientAddresses
  readonly cap: UnauthenticatedCap
  readonly refusals: { inc(labels: { code: string }): void }
  readonly logger: Logger
  readonly now: () => number
}): AnonymousGate {
  return {
    addressOf: (req) => parts.clients.of(req),
    retryAfter: (address) => parts.cap.retryAfter(address, parts.now()),
    refused(address, code) {
      parts.refusals.inc({ code })
      if (code === 'GW_LIMIT_UNAUTHENTICATED') return
      // Requests over the cap are counted but not logged: this one line stands for them.
      if (parts.cap.count(address, parts.now())) {
        parts.logger.warn({ client: address }, 'client address reached listen.unauthenticatedPerMinute: its requests are refused until the minute ends')
      }
    },
  }
}
