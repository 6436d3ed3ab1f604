import { closeSync, fdatasync, fstatSync, mkdirSync, openSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { asStorageError, StorageError } from '../errors.js'
import type { Body, SqlDb } from '../sql/db.js'
import { oneStatement, runSync, type SqlOp } from '../sql/step.js'
import { sqliteDialect } from './dialect.js'

/**
 * One better-sqlite3 connection with the settings the audit relies on: WAL (readers never block the
 * writer), a busy timeout (other worker processes hold the write lock briefly; waited for on the
 * event loop), and a cache of prepared statements. Bodies run synchronously inside better-sqlite3's transactions.
 *
 * Durability: a write resolves only once its commit survives power loss, which strict durability
 * promises. `synchronous=FULL` would fsync the WAL inside the commit, blocking the event loop for the
 * whole disk flush (milliseconds, per commit: the gateway then serves nothing). Instead the commit
 * runs with `synchronous=NORMAL` (frames written, not flushed) and the WAL file is fdatasync'd (as
 * SQLite itself does) on the thread pool before the write resolves; concurrent writes share one fsync. That is FULL's guarantee
 * for every resolved write: the fsync covers every frame committed before it started, a checkpoint
 * fsyncs the WAL before copying it (so frames it moved are durable), and SQLite fsyncs a restarted
 * WAL's header before its first frame. Other connections may read a commit before its fsync ends;
 * nobody is told it succeeded before. When the WAL file cannot be opened, commits fall back to FULL.
 */
export class SqliteDb implements SqlDb {
  readonly dialect = sqliteDialect
  readonly db: Database.Database
  readonly #statements = new Map<string, Database.Statement>()
  readonly #wal: WalSync | undefined
  /**
   * One transaction function for every transaction, built once: better-sqlite3 builds a new wrapper
   * per `db.transaction(fn)` call, ~7 µs of every commit and read (bench/audit-store.mjs).
   */
  readonly #transactionOf: Database.Transaction<(work: () => unknown) => unknown>
  readonly #busyTimeoutMs: number
  /** Operations queued behind one that waits for another process's lock, so all keep their call order. */
  #queue: Promise<unknown> = Promise.resolve()
  #waiting = 0

  constructor(path: string, busyTimeoutMs: number) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    const timeout = Math.max(0, Math.floor(busyTimeoutMs))
    try {
      // No busy handler: it sleeps the whole thread while another process holds the lock; the wait
      // happens on the event loop instead (#run).
      this.db = new Database(path, { timeout: 0 })
      this.#busyTimeoutMs = timeout
      // Two processes opening a fresh file at once (`serve --workers N`): switching it to WAL needs
      // the file to itself and SQLite answers BUSY without waiting, so try again for a while.
      retryWhileBusy(() => this.db.pragma('journal_mode = WAL'), timeout)
      this.#wal = path === ':memory:' ? undefined : new WalSync(`${path}-wal`, () => this.db.pragma('synchronous = FULL'))
      this.db.pragma(this.#wal === undefined ? 'synchronous = FULL' : 'synchronous = NORMAL')
      this.#transactionOf = this.db.transaction((work: () => unknown) => work())
    } catch (error) {
      throw asStorageError(error, 'opening the SQLite store')
    }
  }

  /** `BEGIN IMMEDIATE` takes the write lock up front: no upgrade deadlock between processes. */
  async write<T>(what: string, body: Body<T>): Promise<T> {
    const result = await this.#run(what, body, 'immediate')
    await this.#durable(what)
    return result
  }

  async read<T>(what: string, body: Body<T>): Promise<T> {
    return this.#run(what, body, 'deferred')
  }

  /** Refuses a second statement as PostgreSQL's autocommit does, so a body that only works here fails here too. */
  async single<T>(what: string, access: 'read' | 'write', body: Body<T>): Promise<T> {
    const result = await this.#run(what, (d) => oneStatement(what, body(d)), access === 'write' ? 'immediate' : 'deferred')
    if (access === 'write') await this.#durable(what)
    return result
  }

  get closed(): boolean {
    return !this.db.open
  }

  async close(): Promise<void> {
    await this.#wal?.close()
    if (this.db.open) this.db.close()
  }

  async #durable(what: string): Promise<void> {
    try {
      await this.#wal?.sync()
    } catch (error) {
      throw new StorageError('unavailable', `${what}: flushing the SQLite WAL failed: ${(error as Error).message}`, { cause: error })
    }
  }

  /**
   * The transaction now when the lock is free (synchronously, as before); when another process holds
   * it, tried again from the event loop for up to the busy timeout. SQLite's own busy handler would
   * sleep the thread 1, 2, 5… ms at a time: with `serve --workers 2` a worker stood still that way in
   * ~20 % of its commits, serving nothing. Operations called meanwhile queue behind the waiting one.
   */
  #run<T>(what: string, body: Body<T>, mode: 'immediate' | 'deferred'): Promise<T> {
    if (this.#waiting === 0) {
      const first = this.#attempt(what, body, mode)
      if (first.done) return Promise.resolve(first.value)
    }
    this.#waiting += 1
    const queued = this.#queue.then(() => this.#retry(what, body, mode)).finally(() => {
      this.#waiting -= 1
    })
    this.#queue = queued.catch(() => undefined)
    return queued
  }

  async #retry<T>(what: string, body: Body<T>, mode: 'immediate' | 'deferred'): Promise<T> {
    const deadline = Date.now() + this.#busyTimeoutMs
    for (let tries = 0; ; tries++) {
      const attempt = this.#attempt(what, body, mode, Date.now() >= deadline)
      if (attempt.done) return attempt.value
      // One turn first (the holder's transaction is usually shorter), then 1 ms steps up to 5 ms.
      await new Promise((resolve) => (tries === 0 ? setImmediate(resolve) : setTimeout(resolve, Math.min(tries, 5))))
    }
  }

  /**
   * One try; `done: false` when the lock was busy before the body ran (nothing happened, so trying
   * again is safe). A busy error once the body ran, or past the deadline (`last`), fails as before.
   */
  #attempt<T>(what: string, body: Body<T>, mode: 'immediate' | 'deferred', last = false): { done: true; value: T } | { done: false } {
    if (!this.db.open) throw new StorageError('unavailable', 'the SQLite store is closed')
    let started = false
    try {
      const value = this.#transactionOf[mode](() => {
        started = true
        return runSync(body(this.dialect), (op) => this.#execute(op))
      }) as T
      return { done: true, value }
    } catch (error) {
      // A deferred transaction takes its read lock at its first statement: a read body is side-effect free.
      if (!last && isBusy(error) && (!started || mode === 'deferred')) return { done: false }
      throw asStorageError(error, what)
    }
  }

  #execute(op: SqlOp): unknown {
    if (op.kind === 'exec') return this.db.exec(op.sql)
    const statement = this.#prepared(op.sql)
    if (op.kind === 'all') return statement.all(...op.params)
    if (op.kind === 'get') return statement.get(...op.params)
    return statement.run(...op.params).changes
  }

  /** Prepared once per connection. */
  #prepared(sql: string): Database.Statement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }
}

/**
 * fsyncs of the WAL file on the thread pool, shared: a caller waits for an fsync that started after
 * its commit; callers that committed while one ran share the next.
 */
class WalSync {
  readonly #path: string
  readonly #fallback: () => void
  #fd: number | undefined
  #committed = 0
  #synced = 0
  #running: Promise<void> | undefined
  #failed = false

  constructor(path: string, fallback: () => void) {
    this.#path = path
    this.#fallback = fallback
  }

  /** Resolves once every commit made before the call is on disk. */
  async sync(): Promise<void> {
    if (this.#failed) return
    const mine = ++this.#committed
    while (this.#synced < mine) {
      this.#running ??= this.#flush().finally(() => {
        this.#running = undefined
      })
      await this.#running
    }
  }

  async close(): Promise<void> {
    while (this.#running) await this.#running
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }

  async #flush(): Promise<void> {
    const upTo = this.#committed
    const fd = this.#open()
    if (fd === undefined) throw new Error('the WAL file could not be opened; commits fsync inline from now on')
    await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())))
    this.#synced = Math.max(this.#synced, upTo)
  }

  /**
   * The WAL's descriptor, reopened if its file lost its name (deleted or replaced: SQLite itself
   * never does either while this connection is open); undefined after falling back to FULL.
   * `fstat` on the open descriptor, not `stat` on the path: no path walk on every flush.
   */
  #open(): number | undefined {
    try {
      if (this.#fd !== undefined && fstatSync(this.#fd).nlink > 0) return this.#fd
      if (this.#fd !== undefined) closeSync(this.#fd)
      this.#fd = undefined
      this.#fd = openSync(this.#path, 'r+')
      return this.#fd
    } catch {
      // No WAL file to flush (an unusual file system): SQLite fsyncs inside every commit from now
      // on; the writes waiting now are refused (their durability is unknown), later ones are not.
      this.#failed = true
      this.#fallback()
      return undefined
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/** `sqlite:./data/x.db` → absolute path (relative to `cwd`); `sqlite::memory:` stays in memory. */
export function sqlitePath(url: string, cwd: string): string {
  const rest = url.slice('sqlite:'.length)
  // Accept the URL-ish forms people write too: sqlite:///abs/path and sqlite://./rel.
  const path = rest.startsWith('//') ? rest.slice(2) : rest
  if (path === '') throw new StorageError('invalid', 'sqlite: URL needs a path, e.g. sqlite:./data/skillgate.db')
  if (path === ':memory:') return path
  return resolve(cwd, path)
}

/** Start-up only: retries `run` on SQLITE_BUSY, pausing the thread 25 ms at a time, for up to `ms`. */
function retryWhileBusy(run: () => unknown, ms: number): void {
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (const deadline = Date.now() + ms; ; ) {
    try {
      run()
      return
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error
      Atomics.wait(pause, 0, 0, 25)
    }
  }
}
