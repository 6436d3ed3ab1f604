import { performance } from 'node:perf_hooks'
import type { BatchWrites, TakenWrites } from './batch-writes.js'
import { checkAmount, checkCounterKey, checkLease, checkSlotArgs, dayMs, windowBounds } from './counter-rows.js'
import { StorageError } from './errors.js'
import type { CounterStore, CounterValue, CounterWindow, SlotLease } from './ports-limits.js'
import { checkTime } from './shared.js'
import type { Dialect, SqlDb } from './sql/db.js'
import { newRequestId } from '../observability/request-id.js'
import { get, run, type Step } from './sql/step.js'

/** A counter row as the store holds it: the window it counts and its value there. */
interface CounterRow {
  readonly value: number
  readonly window_start: number
}

/** An increment not yet in the store: `amount` for the window starting at `start` (and any later one the store holds). */
interface Delta {
  readonly start: number
  readonly amount: number
}

interface Entry {
  readonly key: string
  readonly span: CounterWindow
  /** The store's row as last read or returned by a flush; undefined when there was none. */
  row: CounterRow | undefined
  /** When `row` was read (monotonic ms); -Infinity: never. */
  readAt: number
  /** Added here since the last flush took the deltas. */
  pending: Delta | undefined
  /** Taken by a commit that has not settled yet. */
  inflight: Delta | undefined
  /** Bumped when a flush replaced `row`, so a read that raced it is not kept. */
  generation: number
  reading: Promise<void> | undefined
}

export interface CounterStoreOptions {
  /** Pending increments are committed at the latest this long after the first of them (default 200 ms); under load, with every audit commit. */
  readonly flushMs?: number
  /** A total read from the store is trusted this long (default 500 ms); flush + refresh stay under the 1 s cross-replica bound. */
  readonly refreshMs?: number
  /** Monotonic milliseconds for the two bounds above (tests inject one). */
  readonly monotonic?: () => number
  readonly onError?: (error: Error) => void
}

/**
 * Counters and slots, shared by every worker and replica.
 *
 * Counters are kept in memory per process and flushed by the store's group commit (BatchWrites),
 * in the same transaction as the audit halves: an increment costs no transaction of its own. A
 * flush adds each counter's pending delta with one atomic upsert per row (one statement for the
 * whole batch on PostgreSQL) and reads back the sums, which include every other replica's flushed
 * increments. The value an increment or read returns is the last store total plus what this
 * process added since; totals older than `refreshMs` are read again first. So another replica's
 * increments are seen within flushMs + refreshMs (≤ 1 s by default), and a crash loses at most
 * the increments of the last `flushMs`. While the store cannot take a flush, counters refuse
 * (`unavailable`) so callers fail closed; pending increments are kept and flushed when it is back.
 *
 * One row per (key, window kind) is reused across windows, so the table does not grow with time;
 * rows of keys that went quiet are purged in amortised steps. Slot acquisition serialises its
 * count-then-insert per key (SQLite's write lock, a PostgreSQL advisory lock) and rides the same
 * group commit, resolving once durable.
 */
export class SqlCounterStore implements CounterStore {
  readonly #db: SqlDb
  readonly #batch: BatchWrites
  readonly #now: () => Date
  readonly #flushMs: number
  readonly #refreshMs: number
  readonly #monotonic: () => number
  readonly #onError: (error: Error) => void
  readonly #entries = new Map<string, Entry>()
  /** Entries with pending deltas. */
  readonly #dirty = new Set<Entry>()
  #timer: NodeJS.Timeout | undefined
  /** The last flush failed for want of the store: counters refuse until one succeeds. */
  #down: StorageError | undefined
  #flushes = 0
  /** Flushes in a row whose deltas failed on their own. */
  #strikes = 0

  constructor(db: SqlDb, batch: BatchWrites, now: () => Date, options: CounterStoreOptions = {}) {
    this.#db = db
    this.#batch = batch
    this.#now = now
    this.#flushMs = options.flushMs ?? 200
    this.#refreshMs = options.refreshMs ?? 500
    this.#monotonic = options.monotonic ?? (() => performance.now())
    this.#onError = options.onError ?? (() => undefined)
    const dirty = this.#dirty
    batch.join({
      get pending() {
        return dirty.size > 0
      },
      take: () => this.#take(),
    })
  }

  async increment(key: string, window: CounterWindow, amount: number, at?: Date): Promise<CounterValue> {
    checkCounterKey(key)
    checkAmount(amount)
    const now = this.#time(at)
    const { start } = windowBounds(window, now)
    const entry = await this.#fresh(key, window)
    entry.pending = combine(entry.pending, { start, amount })
    this.#dirty.add(entry)
    this.#schedule()
    return view(entry, window, start)
  }

  async get(key: string, window: CounterWindow, at?: Date): Promise<CounterValue> {
    checkCounterKey(key)
    const { start } = windowBounds(window, this.#time(at))
    return view(await this.#fresh(key, window), window, start)
  }

  async flush(): Promise<void> {
    await this.#batch.flush()
    // The next read goes to the store and sees what other instances flushed too.
    for (const entry of this.#entries.values()) entry.readAt = Number.NEGATIVE_INFINITY
  }

  async acquire(key: string, max: number, ttlMs: number, at?: Date): Promise<SlotLease | null> {
    checkCounterKey(key)
    checkSlotArgs(max, ttlMs)
    const now = this.#time(at)
    // The pooled generator: the `ulid` package draws randomness per character (~18 µs a request in the bench).
    const lease: SlotLease = { key, id: newRequestId(now), expiresAt: new Date(now + ttlMs) }
    return this.#batch.submit('acquiring a slot', function* (d): Step<SlotLease | null> {
      // Count-then-insert is only atomic under a lock; per key, so unrelated principals never wait.
      yield* d.lock('slot', key)
      // Expired leases (of a process that died) do not count; the periodic purge deletes them.
      const held = (yield* get<{ n: number }>('SELECT COUNT(*) AS n FROM slots WHERE key = ? AND expires_at > ?', [key, now]))?.n ?? 0
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
    const changed = await this.#batch.submit('renewing a slot', () =>
      run('UPDATE slots SET expires_at = ? WHERE key = ? AND lease = ? AND expires_at > ?', [expiresAt, lease.key, lease.id, now]),
    )
    return changed === 1 ? { ...lease, expiresAt: new Date(expiresAt) } : null
  }

  async release(lease: SlotLease): Promise<void> {
    checkLease(lease)
    await this.#batch.submit('releasing a slot', () => run('DELETE FROM slots WHERE key = ? AND lease = ?', [lease.key, lease.id]))
  }

  /** The entry of a counter, its store total read again when older than `refreshMs`. */
  async #fresh(key: string, span: CounterWindow): Promise<Entry> {
    if (this.#down !== undefined) throw this.#down
    const id = `${span}:${key}`
    let entry = this.#entries.get(id)
    if (entry === undefined) {
      entry = { key, span, row: undefined, readAt: Number.NEGATIVE_INFINITY, pending: undefined, inflight: undefined, generation: 0, reading: undefined }
      this.#entries.set(id, entry)
    }
    if (this.#monotonic() - entry.readAt >= this.#refreshMs) {
      entry.reading ??= this.#read(entry).finally(() => {
        if (entry !== undefined) entry.reading = undefined
      })
      await entry.reading
    }
    return entry
  }

  async #read(entry: Entry): Promise<void> {
    const { generation } = entry
    const racing = entry.inflight !== undefined
    const row = await this.#db.single('reading a counter', 'read', () => get<CounterRow>('SELECT value, window_start FROM counters WHERE key = ? AND span = ?', [entry.key, entry.span]))
    // A flush that committed meanwhile may or may not be in what was read: keep the flush's own totals then.
    if (racing || entry.inflight !== undefined || entry.generation !== generation) return
    entry.row = row
    entry.readAt = this.#monotonic()
  }

  #schedule(): void {
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (this.#dirty.size > 0) void this.#batch.flush().catch((error: unknown) => this.#onError(error instanceof Error ? error : new Error(String(error))))
    }, this.#flushMs)
    this.#timer.unref()
  }

  #take(): TakenWrites | undefined {
    const purge = ++this.#flushes % 256 === 0
    if (this.#dirty.size === 0 && !purge) return undefined
    const taken = [...this.#dirty].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.span < b.span ? -1 : a.span > b.span ? 1 : 0))
    this.#dirty.clear()
    for (const entry of taken) {
      entry.inflight = entry.pending
      entry.pending = undefined
    }
    const now = this.#now().getTime()
    let rows: Array<CounterRow & { key: string; span: string }> = []
    return {
      body: function* (d: Dialect): Step<void> {
        // Sorted by key: two replicas' batches lock the rows in one order and cannot deadlock.
        rows = yield* d.upsertMany<CounterRow & { key: string; span: string }>(
          'counters',
          counterColumns,
          ['key', 'span'],
          upsertSet,
          taken.map((e) => [e.key, e.span, (e.inflight as Delta).start, (e.inflight as Delta).amount]),
          'key, span, value, window_start',
        )
        if (purge) yield* purgeSteps(now)
      },
      settled: (error) => {
        if (error !== undefined) return this.#failed(taken, error)
        this.#down = undefined
        this.#strikes = 0
        const byId = new Map(rows.map((r) => [`${r.span}:${r.key}`, r]))
        const readAt = this.#monotonic()
        for (const entry of taken) {
          const row = byId.get(`${entry.span}:${entry.key}`)
          entry.inflight = undefined
          entry.generation += 1
          if (row !== undefined) {
            entry.row = { value: Number(row.value), window_start: Number(row.window_start) }
            entry.readAt = readAt
          }
        }
        if (purge) this.#forgetQuiet(readAt)
      },
    }
  }

  /**
   * The commit did not happen: the deltas go back in front of what was added since, and are retried.
   * While the store cannot commit, counters refuse (fail closed). Deltas that failed on their own
   * (`invalid`: the same commit went through without them) are dropped at the second failure, so
   * they cannot keep the counters refusing.
   */
  #failed(taken: readonly Entry[], error: Error): void {
    const own = StorageError.is(error) && error.code === 'invalid'
    if (own && ++this.#strikes >= 2) {
      for (const entry of taken) entry.inflight = undefined
      this.#strikes = 0
      this.#down = undefined
      this.#onError(new Error(`counter increments dropped after failing twice: ${error.message}`))
      return
    }
    for (const entry of taken) {
      if (entry.inflight !== undefined) entry.pending = entry.pending === undefined ? entry.inflight : combine(entry.inflight, entry.pending)
      entry.inflight = undefined
      this.#dirty.add(entry)
    }
    if (!own) this.#down = StorageError.is(error) ? error : new StorageError('unavailable', error.message)
    this.#schedule()
  }

  /** Counters nobody touched for a while leave memory (their totals stay in the store). */
  #forgetQuiet(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (entry.pending === undefined && entry.inflight === undefined && entry.reading === undefined && now - entry.readAt > 60_000) this.#entries.delete(id)
    }
  }

  #time(at: Date | undefined): number {
    if (at !== undefined) checkTime(at, 'now')
    return (at ?? this.#now()).getTime()
  }
}

const counterColumns = [
  { name: 'key', type: 'text' },
  { name: 'span', type: 'text' },
  { name: 'window_start', type: 'int8' },
  { name: 'value', type: 'int8' },
] as const

/** Either starts the window afresh or adds to it, never read-then-write; a later window already stored (a clock ahead) is added to. */
const upsertSet = `value = CASE WHEN counters.window_start >= excluded.window_start THEN counters.value + excluded.value ELSE excluded.value END,
  window_start = CASE WHEN counters.window_start >= excluded.window_start THEN counters.window_start ELSE excluded.window_start END`

/** `next` applied after `first`, as the store's upsert would apply them one after the other. */
function combine(first: Delta | undefined, next: Delta): Delta {
  if (first === undefined) return next
  // A later window starts afresh (the earlier one is over); an earlier one adds to the later.
  return first.start >= next.start ? { start: first.start, amount: first.amount + next.amount } : next
}

/** The store's row with the in-flight and pending deltas applied, as the counter in the window starting at `start`. */
function view(entry: Entry, window: CounterWindow, start: number): CounterValue {
  let state: CounterRow | undefined = entry.row
  for (const delta of [entry.inflight, entry.pending]) {
    if (delta === undefined) continue
    state =
      state !== undefined && state.window_start >= delta.start
        ? { value: state.value + delta.amount, window_start: state.window_start }
        : { value: delta.amount, window_start: delta.start }
  }
  const counted = state !== undefined && state.window_start >= start ? state : undefined
  const value = counted?.value ?? 0
  return { value, resetAt: new Date(windowBounds(window, counted !== undefined && value > 0 ? counted.window_start : start).end) }
}

/** Counters quiet for two days and dead slots. */
function* purgeSteps(now: number): Step<void> {
  yield* run('DELETE FROM counters WHERE window_start < ?', [now - 2 * dayMs])
  yield* run('DELETE FROM slots WHERE expires_at <= ?', [now])
}
