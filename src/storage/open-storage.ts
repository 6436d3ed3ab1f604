import { ulid } from 'ulid'
import { StorageError } from './errors.js'
import type { OpenStorageOptions, Storage, StorageErrorHandler } from './ports.js'
import { postgresMigrations } from './postgres/migrations.js'
import { sqlStorage } from './sql-storage.js'
import { SqliteDb, sqlitePath } from './sqlite/connection.js'
import { sqliteMigrations } from './sqlite/migrations.js'
import type { WriterOptions } from './writer-lease.js'

/**
 * Opens the store named by `storage.url`: `sqlite:PATH` (relative to `cwd`, directory created) or
 * `postgres://…` / `postgresql://…`. Opening does not touch the schema: call `migrate()` first
 * (`skillgate migrate`, or at start-up). A PostgreSQL server that is down does not fail here; the
 * first operation rejects with `unavailable` and `health()` reports it.
 *
 * SQLite is the single-node default: one file, WAL, shared by every worker process (`--workers N`),
 * each opening its own Storage; the file's write lock keeps the audit chain linear. PostgreSQL is
 * the shared store for several replicas (SPEC §7): each opens its own pool; the chain-head row lock
 * serialises audit appends; revocations and reviews carry a version replicas poll; grants and
 * counters are read and written in the store on every use.
 *
 * @example
 * const storage = await openStorage(config.storage.url)
 * await storage.migrate()
 * await storage.audit.markInterrupted()
 */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<Storage> {
  const writer: WriterOptions = {
    writerId: options.writerId ?? ulid(),
    leaseMs: positive(options.writerLeaseMs, 30_000, 'writerLeaseMs'),
    now: options.now ?? (() => new Date()),
    delayMs: nonNegative(options.groupCommitDelayMs, 0, 'groupCommitDelayMs'),
    maxBatch: positive(options.maxBatch, 256, 'maxBatch'),
    onError: safely(options.onError),
  }
  if (url.startsWith('sqlite:')) {
    const path = sqlitePath(url, options.cwd ?? process.cwd())
    const db = new SqliteDb(path, nonNegative(options.busyTimeoutMs, 5_000, 'busyTimeoutMs'))
    return sqlStorage(db, { migrations: sqliteMigrations, int8: 'INTEGER' }, writer)
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new StorageError('invalid', 'schema must be a lowercase SQL identifier')
    }
    // The PostgreSQL driver loads only for a PostgreSQL store.
    const { PgDb } = await import('./postgres/db.js')
    const db = new PgDb(url, { poolSize: positive(options.poolSize, 10, 'poolSize'), schema: options.schema, onError: writer.onError })
    return sqlStorage(db, { migrations: postgresMigrations, int8: 'BIGINT' }, writer)
  }
  // Never echo the URL: it may carry a password.
  throw new StorageError('invalid', 'storage url must start with sqlite:, postgres:// or postgresql://')
}

/** A reporting hook that throws must not take the store's timers down with it. */
function safely(onError: StorageErrorHandler | undefined): StorageErrorHandler {
  return (op, error) => {
    try {
      onError?.(op, error)
    } catch {
      // The hook is for logs and metrics; its own failure has nowhere better to go.
    }
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) throw new StorageError('invalid', `${name} must be a positive integer`)
  return value
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0) throw new StorageError('invalid', `${name} must be zero or more`)
  return value
}
