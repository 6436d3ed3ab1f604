import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { asStorageError, StorageError } from '../errors.js'

/**
 * One better-sqlite3 connection with the settings the audit relies on: WAL (readers never block the
 * writer), `synchronous=FULL` (a commit survives power loss, which strict durability promises), a
 * busy timeout (other worker processes hold the write lock briefly), and a cache of prepared
 * statements.
 */
export class SqliteConnection {
  readonly db: Database.Database
  readonly #statements = new Map<string, Database.Statement>()

  constructor(path: string, busyTimeoutMs: number) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    try {
      this.db = new Database(path)
      this.db.pragma('journal_mode = WAL')
      this.db.pragma('synchronous = FULL')
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`)
    } catch (error) {
      throw asStorageError(error, 'opening the SQLite store')
    }
  }

  /** A prepared statement, prepared once per connection. */
  stmt(sql: string): Database.Statement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /** Runs `fn` in a `BEGIN IMMEDIATE` transaction (takes the write lock up front: no upgrade deadlock). */
  write<T>(what: string, fn: () => T): T {
    this.#assertOpen()
    try {
      return this.db.transaction(fn).immediate()
    } catch (error) {
      throw asStorageError(error, what)
    }
  }

  /** Runs `fn` in a read transaction (one consistent snapshot under WAL). */
  read<T>(what: string, fn: () => T): T {
    this.#assertOpen()
    try {
      return this.db.transaction(fn).deferred()
    } catch (error) {
      throw asStorageError(error, what)
    }
  }

  get open(): boolean {
    return this.db.open
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  #assertOpen(): void {
    if (!this.db.open) throw new StorageError('unavailable', 'the SQLite store is closed')
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
