/**
 * Port for limits (SPEC §2 `limits:`): fixed-window counters and concurrency slots kept in the
 * shared store, so every worker and replica counts against the same numbers. Counters are summed in
 * memory per process and committed with the store's group commit: an instance sees its own
 * increments at once and every other instance's within 1 s (`flush` makes them visible now).
 * Methods reject only with a `StorageError`.
 */

/**
 * Fixed windows: `minute` starts at every whole UTC minute (requestsPerMinute), `day` at UTC
 * midnight (token budgets). A counter read or written in a later window starts again from zero.
 */
export type CounterWindow = 'minute' | 'day'

export interface CounterValue {
  /** The count in the current window. */
  readonly value: number
  /** When the current window ends and the counter starts again from zero. */
  readonly resetAt: Date
}

/** A held concurrency slot. Pass it back to `renew` and `release`. */
export interface SlotLease {
  readonly key: string
  readonly id: string
  readonly expiresAt: Date
}

export interface CounterStore {
  /**
   * Adds `amount` (an integer ≥ 0) to the counter `key` in the window containing `now` and returns
   * the total as this instance knows it: the store's sum as of at most 1 s ago plus this instance's
   * own increments since. The increment reaches the store with the next group commit (within
   * 200 ms), as an atomic upsert: concurrent increments from any number of processes are never lost.
   */
  increment(key: string, window: CounterWindow, amount: number, now?: Date): Promise<CounterValue>
  /** The counter in the window containing `now` (0 when never incremented there), as `increment` counts it. */
  get(key: string, window: CounterWindow, now?: Date): Promise<CounterValue>
  /**
   * Commits this instance's pending increments now and forgets its cached totals, so the next read
   * sees every instance's flushed increments. Storage `close` flushes too.
   */
  flush(): Promise<void>
  /**
   * Takes one of at most `max` slots of `key` for `ttlMs`, or resolves null when all are held.
   * Slots past their expiry are free again, so a crashed process cannot leak them; a holder that
   * needs longer renews before expiry.
   */
  acquire(key: string, max: number, ttlMs: number, now?: Date): Promise<SlotLease | null>
  /** Extends a held slot; resolves null when it had already expired (and may have been taken). */
  renew(lease: SlotLease, ttlMs: number, now?: Date): Promise<SlotLease | null>
  /** Frees the slot; idempotent. */
  release(lease: SlotLease): Promise<void>
}
