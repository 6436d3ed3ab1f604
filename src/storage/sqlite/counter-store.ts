import { ulid } from 'ulid'
import { checkAmount, checkCounterKey, checkLease, checkSlotArgs, dayMs, effectiveValue, windowBounds } from '../counter-rows.js'
import type { CounterStore, CounterValue, CounterWindow, SlotLease } from '../ports-limits.js'
import { checkTime } from '../revocation-rows.js'
import type { SqliteConnection } from './connection.js'

/**
 * Counters and slots in SQLite. One row per (key, window kind) is reused from window to window, so
 * the table does not grow with time; rows of keys that went quiet are purged in amortised steps.
 */
export class SqliteCounterStore implements CounterStore {
  readonly #conn: SqliteConnection
  readonly #now: () => Date
  #calls = 0

  constructor(conn: SqliteConnection, now: () => Date) {
    this.#conn = conn
    this.#now = now
  }

  async increment(key: string, window: CounterWindow, amount: number, at?: Date): Promise<CounterValue> {
    checkCounterKey(key)
    checkAmount(amount)
    const now = this.#time(at)
    const { start } = windowBounds(window, now)
    // One statement: the upsert either starts the window afresh or adds to it, never read-then-write.
    const row = this.#conn.write('incrementing a counter', () => {
      this.#purge(now)
      return this.#conn
        .stmt(
          `INSERT INTO counters (key, span, window_start, value) VALUES (?, ?, ?, ?)
           ON CONFLICT (key, span) DO UPDATE SET
             value = CASE WHEN counters.window_start >= excluded.window_start THEN counters.value + excluded.value ELSE excluded.value END,
             window_start = MAX(counters.window_start, excluded.window_start)
           RETURNING value, window_start`,
        )
        .get(key, window, start, amount)
    }) as { value: number; window_start: number }
    return { value: row.value, resetAt: new Date(windowBounds(window, row.window_start).end) }
  }

  async get(key: string, window: CounterWindow, at?: Date): Promise<CounterValue> {
    checkCounterKey(key)
    const now = this.#time(at)
    const { start, end } = windowBounds(window, now)
    const row = this.#conn.read('reading a counter', () => this.#conn.stmt('SELECT value, window_start FROM counters WHERE key = ? AND span = ?').get(key, window)) as
      | { value: number; window_start: number }
      | undefined
    const value = effectiveValue(row, start)
    return { value, resetAt: new Date(value > 0 && row !== undefined ? windowBounds(window, row.window_start).end : end) }
  }

  async acquire(key: string, max: number, ttlMs: number, at?: Date): Promise<SlotLease | null> {
    checkCounterKey(key)
    checkSlotArgs(max, ttlMs)
    const now = this.#time(at)
    const lease: SlotLease = { key, id: ulid(now), expiresAt: new Date(now + ttlMs) }
    return this.#conn.write('acquiring a slot', () => {
      this.#conn.stmt('DELETE FROM slots WHERE key = ? AND expires_at <= ?').run(key, now)
      const held = (this.#conn.stmt('SELECT COUNT(*) AS n FROM slots WHERE key = ?').get(key) as { n: number }).n
      if (held >= max) return null
      this.#conn.stmt('INSERT INTO slots (key, lease, expires_at) VALUES (?, ?, ?)').run(key, lease.id, lease.expiresAt.getTime())
      return lease
    })
  }

  async renew(lease: SlotLease, ttlMs: number, at?: Date): Promise<SlotLease | null> {
    checkLease(lease)
    checkSlotArgs(1, ttlMs)
    const now = this.#time(at)
    const expiresAt = now + ttlMs
    const result = this.#conn.write('renewing a slot', () =>
      this.#conn.stmt('UPDATE slots SET expires_at = ? WHERE key = ? AND lease = ? AND expires_at > ?').run(expiresAt, lease.key, lease.id, now),
    )
    return result.changes === 1 ? { ...lease, expiresAt: new Date(expiresAt) } : null
  }

  async release(lease: SlotLease): Promise<void> {
    checkLease(lease)
    this.#conn.write('releasing a slot', () => this.#conn.stmt('DELETE FROM slots WHERE key = ? AND lease = ?').run(lease.key, lease.id))
  }

  /** Inside a write transaction, every 256th call: counters quiet for two days and dead slots. */
  #purge(now: number): void {
    if (++this.#calls % 256 !== 0) return
    this.#conn.stmt('DELETE FROM counters WHERE window_start < ?').run(now - 2 * dayMs)
    this.#conn.stmt('DELETE FROM slots WHERE expires_at <= ?').run(now)
  }

  #time(at: Date | undefined): number {
    if (at !== undefined) checkTime(at, 'now')
    return (at ?? this.#now()).getTime()
  }
}
