import { createHash } from 'node:crypto'
import type { RuleConfig } from '../config/schema.js'
import type { CounterStore, CounterValue } from '../storage/ports.js'
import { release as releaseReservation, reserve, type Reservation } from './reservation.js'
import { openStreamSlot, type StreamSlot } from './stream-slot.js'

/**
 * Per-principal limits of a rule (SPEC §2 `limits:`), counted in the shared store so every worker
 * and replica enforces one number (each process adds its own increments to the store's totals at
 * once and sees the others' within 1 s: storage/counter-store.ts):
 *
 * - `requestsPerMinute`: fixed UTC minutes; every request that reaches this check counts, refused
 *   ones included, so a client hammering a full window gains nothing.
 * - `inputTokensPerDay`, `outputTokensPerDay`: fixed UTC days. Checked *before* the call against
 *   what was already spent. Output is also *reserved* before the call (`max_tokens`, summed over a
 *   batch; reservation.ts) and settled on real usage afterwards, so concurrent or abandoned calls
 *   cannot overshoot it; input cannot be known in advance, so a call that crosses the input budget
 *   finishes and the next one is refused until UTC midnight.
 * - `concurrentStreams`: streaming requests (`stream: true`) hold a slot until released; a slot of a
 *   crashed process frees itself after its TTL.
 *
 * Counters are kept per (rule, principal): a principal reaching the gateway through two rules has
 * two sets of limits, as each rule states its own.
 */
export type LimitsConfig = NonNullable<RuleConfig['limits']>
export type LimitName = keyof LimitsConfig

export interface LimitSubject {
  readonly principal: string
  readonly rule: string
}

export type LimitVerdict =
  /**
   * Within every limit; `slot` is held for a streaming request under `concurrentStreams` (release
   * it); `reservation` is held against `outputTokensPerDay` (settle it).
   */
  | { readonly ok: true; readonly slot: StreamSlot | null; readonly reservation?: Reservation }
  | { readonly ok: false; readonly limit: LimitName; readonly max: number; readonly retryAfterSeconds: number }

export interface TokenUsage {
  readonly inputTokens: number
  readonly outputTokens: number
  /** Counted as input: the model read these tokens too. */
  readonly cacheCreationInputTokens?: number | undefined
  readonly cacheReadInputTokens?: number | undefined
}

export interface LimiterOptions {
  readonly counters: CounterStore
  readonly now?: (() => number) | undefined
  /** Lease of a stream slot, renewed every third of it while held; default 60 s. */
  readonly slotTtlMs?: number | undefined
  /** Failed slot renewals and releases (the TTL cleans up). */
  readonly onError?: ((error: Error) => void) | undefined
}

export interface LimitedRequest {
  readonly streaming: boolean
  /** Output tokens the call may produce (`max_tokens`, summed over a batch); 0 or absent reserves nothing. */
  readonly outputReservation?: number
}

/** What a finished call is charged. */
export interface Settlement {
  readonly inputTokens: number
  readonly outputTokens: number
  /** The client left or the stream broke: the whole reservation is charged (at least). */
  readonly chargeReservation: boolean
}

export interface Limiter {
  /** Before forwarding. Rejects with a `StorageError` when the store is down: callers fail closed. */
  checkBefore(subject: LimitSubject, limits: LimitsConfig | undefined, request: LimitedRequest): Promise<LimitVerdict>
  /** After the call: charges its usage and gives its reservation back. */
  settle(subject: LimitSubject, limits: LimitsConfig | undefined, reservation: Reservation | undefined, settlement: Settlement): Promise<void>
  /** After the response (JSON `usage`, or the stream's final usage; partial usage for an interrupted stream). */
  recordUsage(subject: LimitSubject, limits: LimitsConfig | undefined, usage: TokenUsage): Promise<void>
  /** Frees a stream slot; idempotent. */
  release(slot: StreamSlot | null): Promise<void>
}

type Metric = 'rpm' | 'input' | 'output' | 'streams'

/** Readable in the store when short; hashed when a principal is long enough to hit the key limit. */
export function counterKey(metric: Metric, subject: LimitSubject): string {
  const key = JSON.stringify([metric, subject.rule, subject.principal])
  return key.length <= 512 ? key : `${metric}:sha256:${createHash('sha256').update(key).digest('hex')}`
}

const secondsUntil = (resetAt: Date, now: number): number => Math.max(1, Math.ceil((resetAt.getTime() - now) / 1000))

export function createLimiter(options: LimiterOptions): Limiter {
  const { counters } = options
  const now = options.now ?? Date.now
  const slotTtlMs = options.slotTtlMs ?? 60_000
  const onError = options.onError ?? (() => undefined)

  /** What was spent today against a budget; undefined when the rule sets none. */
  async function spentToday(subject: LimitSubject, limit: 'inputTokensPerDay' | 'outputTokensPerDay', max: number | undefined): Promise<CounterValue | undefined> {
    if (max === undefined) return undefined
    return counters.get(counterKey(limit === 'inputTokensPerDay' ? 'input' : 'output', subject), 'day', new Date(now()))
  }

  const overBudget = (limit: 'inputTokensPerDay' | 'outputTokensPerDay', max: number | undefined, spent: CounterValue | undefined): LimitVerdict | undefined =>
    max !== undefined && spent !== undefined && spent.value >= max ? { ok: false, limit, max, retryAfterSeconds: secondsUntil(spent.resetAt, now()) } : undefined

  async function checkBefore(subject: LimitSubject, limits: LimitsConfig | undefined, request: LimitedRequest): Promise<LimitVerdict> {
    if (limits === undefined) return { ok: true, slot: null }
    // Budgets first: they only read, so a request refused for budget costs no rate or slot.
    const input = overBudget('inputTokensPerDay', limits.inputTokensPerDay, await spentToday(subject, 'inputTokensPerDay', limits.inputTokensPerDay))
    if (input !== undefined) return input
    const outputSpent = await spentToday(subject, 'outputTokensPerDay', limits.outputTokensPerDay)
    const output = overBudget('outputTokensPerDay', limits.outputTokensPerDay, outputSpent)
    if (output !== undefined) return output
    const rpm = limits.requestsPerMinute
    if (rpm !== undefined) {
      const count = await counters.increment(counterKey('rpm', subject), 'minute', 1, new Date(now()))
      if (count.value > rpm) return { ok: false, limit: 'requestsPerMinute', max: rpm, retryAfterSeconds: secondsUntil(count.resetAt, now()) }
    }
    const streams = limits.concurrentStreams
    let slot: StreamSlot | null = null
    if (streams !== undefined && request.streaming) {
      slot = await openStreamSlot(counters, counterKey('streams', subject), streams, { ttlMs: slotTtlMs, now, onError })
      // A stream ends at an unknown time: ask the client to come back in a second.
      if (slot === null) return { ok: false, limit: 'concurrentStreams', max: streams, retryAfterSeconds: 1 }
    }
    const max = limits.outputTokensPerDay
    const amount = request.outputReservation ?? 0
    if (max === undefined || outputSpent === undefined || amount <= 0) return { ok: true, slot }
    // Spent as read above: reservations, not this read, keep concurrent calls from overshooting.
    const spent = outputSpent
    const reservation = await reserve(counters, subject, amount, max, spent.value, now())
    if (reservation !== null) return { ok: true, slot, reservation }
    await slot?.release()
    return { ok: false, limit: 'outputTokensPerDay', max, retryAfterSeconds: secondsUntil(spent.resetAt, now()) }
  }

  async function settle(subject: LimitSubject, limits: LimitsConfig | undefined, reservation: Reservation | undefined, settlement: Settlement): Promise<void> {
    const reserved = reservation?.amount ?? 0
    const output = settlement.chargeReservation ? Math.max(settlement.outputTokens, reserved) : settlement.outputTokens
    await Promise.all([
      recordUsage(subject, limits, { inputTokens: settlement.inputTokens, outputTokens: output }),
      reservation ? releaseReservation(counters, subject, reservation) : undefined,
    ])
  }

  async function recordUsage(subject: LimitSubject, limits: LimitsConfig | undefined, usage: TokenUsage): Promise<void> {
    if (limits === undefined) return
    const input = count(usage.inputTokens) + count(usage.cacheCreationInputTokens) + count(usage.cacheReadInputTokens)
    const output = count(usage.outputTokens)
    const at = new Date(now())
    const writes: Array<Promise<unknown>> = []
    if (limits.inputTokensPerDay !== undefined && input > 0) writes.push(counters.increment(counterKey('input', subject), 'day', input, at))
    if (limits.outputTokensPerDay !== undefined && output > 0) writes.push(counters.increment(counterKey('output', subject), 'day', output, at))
    await Promise.all(writes)
  }

  return { checkBefore, settle, recordUsage, release: async (slot) => slot?.release() }
}

/** Usage numbers come from upstream JSON: anything but a non-negative integer counts as 0. */
function count(value: number | undefined): number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0 ? value : 0
}

export type { Reservation, StreamSlot }
