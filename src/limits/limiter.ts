import { createHash } from 'node:crypto'
import type { RuleConfig } from '../config/schema.js'
import type { CounterStore } from '../storage/ports.js'
import { openStreamSlot, type StreamSlot } from './stream-slot.js'

/**
 * Per-principal limits of a rule (SPEC §2 `limits:`), counted in the shared store so every worker
 * and replica enforces one number:
 *
 * - `requestsPerMinute`: fixed UTC minutes; every request that reaches this check counts, refused
 *   ones included, so a client hammering a full window gains nothing.
 * - `inputTokensPerDay`, `outputTokensPerDay`: fixed UTC days. Checked *before* the call against
 *   what was already spent; usage is recorded after the response. A call that crosses the budget
 *   mid-way finishes; the next one is refused until UTC midnight.
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
  /** Within every limit; `slot` is held for a streaming request under `concurrentStreams` (release it). */
  | { readonly ok: true; readonly slot: StreamSlot | null }
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

export interface Limiter {
  /** Before forwarding. Rejects with a `StorageError` when the store is down: callers fail closed. */
  checkBefore(subject: LimitSubject, limits: LimitsConfig | undefined, request: { readonly streaming: boolean }): Promise<LimitVerdict>
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

  async function budget(subject: LimitSubject, limit: 'inputTokensPerDay' | 'outputTokensPerDay', max: number | undefined): Promise<LimitVerdict | undefined> {
    if (max === undefined) return undefined
    const spent = await counters.get(counterKey(limit === 'inputTokensPerDay' ? 'input' : 'output', subject), 'day', new Date(now()))
    return spent.value >= max ? { ok: false, limit, max, retryAfterSeconds: secondsUntil(spent.resetAt, now()) } : undefined
  }

  async function checkBefore(subject: LimitSubject, limits: LimitsConfig | undefined, request: { readonly streaming: boolean }): Promise<LimitVerdict> {
    if (limits === undefined) return { ok: true, slot: null }
    // Budgets first: they only read, so a request refused for budget costs no rate or slot.
    const overBudget = (await budget(subject, 'inputTokensPerDay', limits.inputTokensPerDay)) ?? (await budget(subject, 'outputTokensPerDay', limits.outputTokensPerDay))
    if (overBudget !== undefined) return overBudget
    const rpm = limits.requestsPerMinute
    if (rpm !== undefined) {
      const count = await counters.increment(counterKey('rpm', subject), 'minute', 1, new Date(now()))
      if (count.value > rpm) return { ok: false, limit: 'requestsPerMinute', max: rpm, retryAfterSeconds: secondsUntil(count.resetAt, now()) }
    }
    const streams = limits.concurrentStreams
    if (streams === undefined || !request.streaming) return { ok: true, slot: null }
    const slot = await openStreamSlot(counters, counterKey('streams', subject), streams, { ttlMs: slotTtlMs, now, onError })
    // A stream ends at an unknown time: ask the client to come back in a second.
    if (slot === null) return { ok: false, limit: 'concurrentStreams', max: streams, retryAfterSeconds: 1 }
    return { ok: true, slot }
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

  return { checkBefore, recordUsage, release: async (slot) => slot?.release() }
}

/** Usage numbers come from upstream JSON: anything but a non-negative integer counts as 0. */
function count(value: number | undefined): number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0 ? value : 0
}

export type { StreamSlot }
