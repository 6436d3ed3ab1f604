import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { asStorageError, StorageError } from '../errors.js'
import type { Body, SqlDb } from '../sql/db.js'
import { oneStatement, runSync, type SqlOp } from '../sql/step.js'
import { sqliteDialect } from './dialect.js'

/**
 * One better-sqlite3 connection with the settings the audit relies on: WAL (readers never block the
 * writer), `synchronous=FULL` (a commit survives power loss, which strict durability promises), a
 * busy timeout (other worker processes hold the write lock briefly), and a cache of prepared
 * statements. Bodies run synchronously inside better-sqlite3's transactions.
 */
export class SqliteDb implements SqlDb {
  readonly dialect = sqliteDialect
  readonly db: Database.Database
  readonly #statements = new Map<string, Database.Statement>()

  constructor(path: string, busyTimeoutMs: number) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    const timeout = Math.max(0, Math.floor(busyTimeoutMs))
    try {
      this.db = new Database(path, { timeout })
      // Two processes opening a fresh file at once (`serve --workers N`): switching it to WAL needs
      // the file to itself and SQLite answers BUSY without waiting, so try again for a while.
      retryWhileBusy(() => this.db.pragma('journal_mode = WAL'), timeout)
      this.db.pragma('synchronous = FULL')
    } catch (error) {
      throw asStorageError(error, 'opening the SQLite store')
    }
  }

  /** `BEGIN IMMEDIATE` takes the write lock up front: no upgrade deadlock between processes. */
  async write<T>(what: string, body: Body<T>): Promise<T> {
    return this.#transaction(what, body, 'immediate')
  }

  async read<T>(what: string, body: Body<T>): Promise<T> {
    return this.#transaction(what, body, 'deferred')
  }

  /** Refuses a second statement as PostgreSQL's autocommit does, so a body that only works here fails here too. */
  async single<T>(what: string, access: 'read' | 'write', body: Body<T>): Promise<T> {
    return this.#transaction(what, (d) => oneStatement(what, body(d)), access === 'write' ? 'immediate' : 'deferred')
  }

  get closed(): boolean {
    return !this.db.open
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }

  #transaction<T>(what: string, body: Body<T>, mode: 'immediate' | 'deferred'): T {
    if (!this.db.open) throw new StorageError('unavailable', 'the SQLite store is closed')
    try {
      return this.db.transaction(() => runSync(body(this.dialect), (op) => this.#execute(op)))[mode]()
    } catch (error) {
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
