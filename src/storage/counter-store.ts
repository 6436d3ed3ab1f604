import { ulid } from 'ulid'
import { checkAmount, checkCounterKey, checkLease, checkSlotArgs, dayMs, effectiveValue, windowBounds } from './counter-rows.js'
import type { CounterStore, CounterValue, CounterWindow, SlotLease } from './ports-limits.js'
import { checkTime } from './revocation-rows.js'
import type { SqlDb } from './sql/db.js'
import { get, run, type Step } from './sql/step.js'

interface CounterRow {
  readonly value: number
  readonly window_start: number
}

/**
 * Counters and slots, shared by every worker and replica. An increment is one upsert (the
 * conflicting row is locked and re-read, so concurrent increments add up); slot acquisition
 * serialises its count-then-insert per key (SQLite's write lock, a PostgreSQL advisory lock). One
 * row per (key, window kind) is reused across windows, so the table does not grow with time; rows
 * of keys that went quiet are purged in amortised steps.
 */
export class SqlCounterStore implements CounterStore {
  readonly #db: SqlDb
  readonly #now: () => Date
  #calls = 0

  constructor(db: SqlDb, now: () => Date) {
    this.#db = db
    this.#now = now
  }

  async increment(key: string, window: CounterWindow, amount: number, at?: Date): Promise<CounterValue> {
    checkCounterKey(key)
    checkAmount(amount)
    const now = this.#time(at)
    const { start } = windowBounds(window, now)
    if (++this.#calls % 256 === 0) await this.#db.write('purging counters', () => purge(now))
    // One statement: the upsert either starts the window afresh or adds to it, never read-then-write.
    const row = await this.#db.single('incrementing a counter', 'write', () =>
      get<CounterRow>(
        `INSERT INTO counters (key, span, window_start, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (key, span) DO UPDATE SET
           value = CASE WHEN counters.window_start >= excluded.window_start THEN counters.value + excluded.value ELSE excluded.value END,
           window_start = CASE WHEN counters.window_start >= excluded.window_start THEN counters.window_start ELSE excluded.window_start END
         RETURNING value, window_start`,
        [key, window, start, amount],
      ),
    )
    if (row === undefined) throw new Error('the counter upsert returned no row')
    return { value: row.value, resetAt: new Date(windowBounds(window, row.window_start).end) }
  }

  async get(key: string, window: CounterWindow, at?: Date): Promise<CounterValue> {
    checkCounterKey(key)
    const { start, end } = windowBounds(window, this.#time(at))
    const row = await this.#db.single('reading a counter', 'read', () => get<CounterRow>('SELECT value, window_start FROM counters WHERE key = ? AND span = ?', [key, window]))
    const value = effectiveValue(row, start)
    return { value, resetAt: new Date(value > 0 && row !== undefined ? windowBounds(window, row.window_start).end : end) }
  }

  async acquire(key: string, max: number, ttlMs: number, at?: Date): Promise<SlotLease | null> {
    checkCounterKey(key)
    checkSlotArgs(max, ttlMs)
    const now = this.#time(at)
    const lease: SlotLease = { key, id: ulid(now), expiresAt: new Date(now + ttlMs) }
    return this.#db.write('acquiring a slot', function* (d): Step<SlotLease | null> {
      // Count-then-insert is only atomic under a lock; per key, so unrelated principals never wait.
      yield* d.lock('slot', key)
      yield* run('DELETE FROM slots WHERE key = ? AND expires_at <= ?', [key, now])
      const held = (yield* get<{ n: number }>('SELECT COUNT(*) AS n FROM slots WHERE key = ?', [key]))?.n ?? 0
      if (held >= max) return null
      yield* run('INSERT INTO slots (key, lease, expires_at) VALUES (?, ?, ?)', [key, lease.id, lease.expiresAt.getTime()])
      return lease
    })
  }

  async renew(lease: SlotLease, ttlMs: number, at?: Date): Promise<SlotLease | null> {
    checkLease(lease)
    checkSlotArgs(1, ttlMs)
    const now = this.#time(at)
    const expiresAt = now + ttlMs
    const changed = await this.#db.single('renewing a slot', 'write', () =>
      run('UPDATE slots SET expires_at = ? WHERE key = ? AND lease = ? AND expires_at > ?', [expiresAt, lease.key, lease.id, now]),
    )
    return changed === 1 ? { ...lease, expiresAt: new Date(expiresAt) } : null
  }

  async release(lease: SlotLease): Promise<void> {
    checkLease(lease)
    await this.#db.single('releasing a slot', 'write', () => run('DELETE FROM slots WHERE key = ? AND lease = ?', [lease.key, lease.id]))
  }

  #time(at: Date | undefined): number {
    if (at !== undefined) checkTime(at, 'now')
    return (at ?? this.#now()).getTime()
  }
}

/** Counters quiet for two days and dead slots. */
function* purge(now: number): Step<void> {
  yield* run('DELETE FROM counters WHERE window_start < ?', [now - 2 * dayMs])
  yield* run('DELETE FROM slots WHERE expires_at <= ?', [now])
}
