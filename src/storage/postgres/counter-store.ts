import { ulid } from 'ulid'
import { checkAmount, checkCounterKey, checkLease, checkSlotArgs, dayMs, effectiveValue, windowBounds } from '../counter-rows.js'
import type { CounterStore, CounterValue, CounterWindow, SlotLease } from '../ports-limits.js'
import { checkTime } from '../revocation-rows.js'
import { rows, type PgDb } from './db.js'

/**
 * Counters and slots in PostgreSQL, shared by every replica. An increment is one upsert (the
 * conflicting row is locked and re-read, so concurrent increments add up); slot acquisition takes a
 * per-key advisory lock for its count-then-insert. One row per (key, window kind) is reused across
 * windows; quiet keys are purged in amortised steps.
 */
export class PostgresCounterStore implements CounterStore {
  readonly #db: PgDb
  readonly #now: () => Date
  #calls = 0

  constructor(db: PgDb, now: () => Date) {
    this.#db = db
    this.#now = now
  }

  async increment(key: string, window: CounterWindow, amount: number, at?: Date): Promise<CounterValue> {
    checkCounterKey(key)
    checkAmount(amount)
    const now = this.#time(at)
    const { start } = windowBounds(window, now)
    await this.#purge(now)
    const found = await this.#db.query<{ value: number; window_start: number }>(
      'incrementing a counter',
      `INSERT INTO counters (key, span, window_start, value) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key, span) DO UPDATE SET
         value = CASE WHEN counters.window_start >= EXCLUDED.window_start THEN counters.value + EXCLUDED.value ELSE EXCLUDED.value END,
         window_start = GREATEST(counters.window_start, EXCLUDED.window_start)
       RETURNING value, window_start`,
      [key, window, start, amount],
    )
    const row = found[0] as { value: number; window_start: number }
    return { value: row.value, resetAt: new Date(windowBounds(window, row.window_start).end) }
  }

  async get(key: string, window: CounterWindow, at?: Date): Promise<CounterValue> {
    checkCounterKey(key)
    const { start, end } = windowBounds(window, this.#time(at))
    const row = (await this.#db.query<{ value: number; window_start: number }>('reading a counter', 'SELECT value, window_start FROM counters WHERE key = $1 AND span = $2', [key, window]))[0]
    const value = effectiveValue(row, start)
    return { value, resetAt: new Date(value > 0 && row !== undefined ? windowBounds(window, row.window_start).end : end) }
  }

  async acquire(key: string, max: number, ttlMs: number, at?: Date): Promise<SlotLease | null> {
    checkCounterKey(key)
    checkSlotArgs(max, ttlMs)
    const now = this.#time(at)
    const lease: SlotLease = { key, id: ulid(now), expiresAt: new Date(now + ttlMs) }
    return this.#db.tx('acquiring a slot', async (c) => {
      // Count-then-insert is only atomic under a lock; per key, so unrelated principals never wait.
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('skillgate:slot:' || current_schema() || ':' || $1))`, [key])
      await c.query('DELETE FROM slots WHERE key = $1 AND expires_at <= $2', [key, now])
      const held = (await rows<{ n: number }>(c, 'SELECT COUNT(*)::int AS n FROM slots WHERE key = $1', [key]))[0]?.n ?? 0
      if (held >= max) return null
      await c.query('INSERT INTO slots (key, lease, expires_at) VALUES ($1, $2, $3)', [key, lease.id, lease.expiresAt.getTime()])
      return lease
    })
  }

  async renew(lease: SlotLease, ttlMs: number, at?: Date): Promise<SlotLease | null> {
    checkLease(lease)
    checkSlotArgs(1, ttlMs)
    const now = this.#time(at)
    const expiresAt = now + ttlMs
    const renewed = await this.#db.query('renewing a slot', 'UPDATE slots SET expires_at = $1 WHERE key = $2 AND lease = $3 AND expires_at > $4 RETURNING 1 AS ok', [
      expiresAt,
      lease.key,
      lease.id,
      now,
    ])
    return renewed.length === 1 ? { ...lease, expiresAt: new Date(expiresAt) } : null
  }

  async release(lease: SlotLease): Promise<void> {
    checkLease(lease)
    await this.#db.query('releasing a slot', 'DELETE FROM slots WHERE key = $1 AND lease = $2', [lease.key, lease.id])
  }

  /** Every 256th increment: counters quiet for two days and dead slots. */
  async #purge(now: number): Promise<void> {
    if (++this.#calls % 256 !== 0) return
    await this.#db.query('purging counters', 'DELETE FROM counters WHERE window_start < $1', [now - 2 * dayMs])
    await this.#db.query('purging slots', 'DELETE FROM slots WHERE expires_at <= $1', [now])
  }

  #time(at: Date | undefined): number {
    if (at !== undefined) checkTime(at, 'now')
    return (at ?? this.#now()).getTime()
  }
}
