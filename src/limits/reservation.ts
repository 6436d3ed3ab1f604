import type { CounterStore } from '../storage/ports.js'
import type { LimitSubject } from './limiter.js'

/**
 * Output-token reservations (issue #12 "budgets that cannot be walked around"). A call may produce
 * up to `max_tokens` (for a batch, the sum over its requests), so that much is reserved *before*
 * forwarding, and counted against `outputTokensPerDay` together with what was already spent:
 *
 *     spent today + reserved today − released today + this reservation ≤ budget
 *
 * When the call ends, its reservation is released and its real usage charged (settle); a client
 * that leaves or a stream that breaks is charged the whole reservation, because the upstream may
 * have produced (and billed) every token. A reservation never released — its process died — stays
 * counted for the rest of its day: charged in full when the window closes.
 *
 * Counters only grow (the store's increments are ≥ 0), so "reserved" and "released" are two
 * counters, keyed by the reservation's own UTC day: a release after midnight lands on that day's
 * pair, never on the next day's. The reservation is added first and the budget read after it, so
 * two concurrent calls of one process each see the other; at worst both are refused, never both
 * admitted past it. Counters are summed in memory and flushed with the store's group commit
 * (storage/counter-store.ts): calls at other replicas see a reservation within one second.
 */
export interface Reservation {
  readonly amount: number
  /** Start (ms) of the UTC day it counts against. */
  readonly day: number
}

const DAY_MS = 86_400_000

const dayKey = (metric: 'reserved' | 'released', subject: LimitSubject, day: number) => JSON.stringify([metric, subject.rule, subject.principal, day])

/** Reserves `amount` unless it does not fit `max` beside `spent`; resolves null when refused. */
export async function reserve(counters: CounterStore, subject: LimitSubject, amount: number, max: number, spent: number, now: number): Promise<Reservation | null> {
  const day = Math.floor(now / DAY_MS) * DAY_MS
  const at = new Date(now)
  const reserved = await counters.increment(dayKey('reserved', subject, day), 'day', amount, at)
  const released = await counters.get(dayKey('released', subject, day), 'day', at)
  const outstanding = reserved.value - released.value
  if (spent + outstanding <= max) return { amount, day }
  await counters.increment(dayKey('released', subject, day), 'day', amount, at)
  return null
}

/** Gives the reservation back (its day's pair), whatever the day is now. */
export async function release(counters: CounterStore, subject: LimitSubject, reservation: Reservation): Promise<void> {
  // `at` inside the reservation's day keeps the counter in that day's window.
  await counters.increment(dayKey('released', subject, reservation.day), 'day', reservation.amount, new Date(reservation.day))
}

/**
 * Billed tokens of a response: top-level `usage` is the executor only; advisor calls and compaction
 * appear only in `usage.iterations[]` (claude-api-2026.md §2, §7). When the iterations list the
 * executor's own turns too (`type: "message"`), they are the whole bill; otherwise they add to it.
 */
interface Tokens {
  readonly input: number
  readonly output: number
}

export function billedTokens(usage: Readonly<Record<string, unknown>> | undefined): Tokens {
  if (!usage) return { input: 0, output: 0 }
  const top = tokensOf(usage)
  const iterations = Array.isArray(usage.iterations) ? usage.iterations.filter(isRecord) : []
  if (iterations.length === 0) return top
  const sum = iterations.reduce<Tokens>((acc, it) => add(acc, tokensOf(it)), { input: 0, output: 0 })
  return iterations.some((it) => it.type === 'message') ? sum : add(top, sum)
}

function tokensOf(usage: Readonly<Record<string, unknown>>): Tokens {
  return {
    input: count(usage.input_tokens) + count(usage.cache_creation_input_tokens) + count(usage.cache_read_input_tokens),
    output: count(usage.output_tokens),
  }
}

const add = (a: Tokens, b: Tokens): Tokens => ({ input: a.input + b.input, output: a.output + b.output })

/** Usage numbers come from upstream JSON: anything but a non-negative integer counts as 0. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
