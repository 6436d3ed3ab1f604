import { buildCompletion, buildOpening } from './record-builder.js'
import type { AuditCompletion, AuditContentMode, AuditOpening } from './record.js'

/**
 * Bounded audit growth from anonymous traffic (SPEC §8): every authenticated request keeps its own
 * record, but refusals of requests without a verified identity are only recorded one by one up to
 * `burst` per client address, error code and UTC minute. The rest of that minute is counted and
 * written as ONE record carrying the count (`aggregate`) once the minute has ended, so 10,000 bad
 * tokens from one address cost a handful of records, not 10,000. Pure: the clock, the record ids and
 * the write are passed in; no HTTP.
 */
export interface RefusalAggregatorOptions {
  /** Writes both halves of a record (AuditWriter.record). */
  readonly record: (opening: AuditOpening, completion: AuditCompletion) => Promise<void>
  readonly newId: () => string
  readonly content: AuditContentMode
  /** Refusals recorded one by one per address, code and minute before counting starts; default 10. */
  readonly burst?: number
  /** Most (address, code) pairs tracked in a minute; past it new pairs share one `*` entry. */
  readonly maxKeys?: number
  readonly now?: () => number
  /** A write that failed (the count is lost from the audit; the metric still has it). */
  readonly onError?: (error: Error) => void
}

export interface UnauthenticatedRefusal {
  readonly clientAddress: string
  /** The gateway error code the request was refused with. */
  readonly code: string
  readonly status: number
}

interface Tally extends UnauthenticatedRefusal {
  readonly minute: number
  recorded: number
  counted: number
  first: number
  last: number
}

const minuteMs = 60_000

export class RefusalAggregator {
  readonly #options: RefusalAggregatorOptions
  readonly #tallies = new Map<string, Tally>()
  readonly #now: () => number
  readonly #burst: number
  readonly #maxKeys: number
  #timer: ReturnType<typeof setInterval> | undefined
  /** The minute the tallies are for; a refusal in a later one writes theirs first (once, not per refusal). */
  #minute = Number.NEGATIVE_INFINITY

  constructor(options: RefusalAggregatorOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#burst = options.burst ?? 10
    this.#maxKeys = options.maxKeys ?? 10_000
  }

  /** True: write this refusal's own record. False: it was counted into its minute's aggregate. */
  admit(refusal: UnauthenticatedRefusal): boolean {
    const now = this.#now()
    const minute = Math.floor(now / minuteMs)
    if (minute > this.#minute) {
      this.#minute = minute
      void this.flushEnded(minute)
    }
    const tally = this.#tallyFor(refusal, minute, now)
    if (tally.recorded < this.#burst) {
      tally.recorded++
      return true
    }
    if (tally.counted === 0) tally.first = now
    tally.last = now
    tally.counted++
    return false
  }

  /** Writes the aggregates of minutes before `minute` (all of them with `Infinity`). */
  async flushEnded(minute = Math.floor(this.#now() / minuteMs)): Promise<void> {
    const ended = [...this.#tallies].filter(([, tally]) => tally.minute < minute)
    for (const [key] of ended) this.#tallies.delete(key)
    await Promise.all(ended.filter(([, tally]) => tally.counted > 0).map(([, tally]) => this.#write(tally)))
  }

  /** Flushes ended minutes every `everyMs` (a flood that stops still gets its record). */
  start(everyMs = 10_000): void {
    this.#timer ??= setInterval(() => void this.flushEnded(), everyMs)
    this.#timer.unref()
  }

  /** Writes every aggregate, the current minute's included (shutdown). */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.flushEnded(Number.POSITIVE_INFINITY)
  }

  #tallyFor(refusal: UnauthenticatedRefusal, minute: number, now: number): Tally {
    const key = `${refusal.clientAddress} ${refusal.code}`
    const known = this.#tallies.get(key)
    if (known) return known
    const clientAddress = this.#tallies.size >= this.#maxKeys ? '*' : refusal.clientAddress
    const chosenKey = `${clientAddress} ${refusal.code}`
    const tally = this.#tallies.get(chosenKey) ?? { minute, clientAddress, code: refusal.code, status: refusal.status, recorded: 0, counted: 0, first: now, last: now }
    this.#tallies.set(chosenKey, tally)
    return tally
  }

  async #write(tally: Tally): Promise<void> {
    const { opening, completion } = aggregatedRefusalRecord(this.#options.newId(), tally, this.#options.content)
    try {
      await this.#options.record(opening, completion)
    } catch (error) {
      this.#options.onError?.(error as Error)
    }
  }
}

/** One record standing for `counted` refusals of one address and code within one minute. */
export function aggregatedRefusalRecord(
  id: string,
  tally: Pick<Tally, 'clientAddress' | 'code' | 'status' | 'counted' | 'first' | 'last'>,
  content: AuditContentMode,
): { opening: AuditOpening; completion: AuditCompletion } {
  const start = new Date(tally.first)
  const opening = buildOpening({
    id,
    start,
    decision: { effect: 'deny', reasons: [{ code: tally.code, detail: `${tally.counted} unauthenticated refusals from ${tally.clientAddress} aggregated` }] },
    // Token-endpoint refusals (`exchange:…` codes) say where they were sent; /v1 ones span paths.
    ...(tally.code.startsWith('exchange:') ? { endpoint: 'oauth_token', method: 'POST', path: '/v1/oauth/token' } : { endpoint: 'unknown', method: '*', path: '*' }),
    requestBytes: 0,
    content,
  })
  const aggregate = { count: tally.counted, clientAddress: tally.clientAddress, first: start.toISOString(), last: new Date(tally.last).toISOString() }
  return {
    opening: { ...opening, aggregate },
    completion: buildCompletion({ start, end: new Date(tally.last), status: tally.status, outcome: 'denied', error: tally.code, content }),
  }
}
