import { ulid } from 'ulid'
import { StorageError } from './errors.js'
import type { OpenStorageOptions, Storage, StorageErrorHandler } from './ports.js'
import { openSqliteStorage } from './sqlite/index.js'
import { sqlitePath } from './sqlite/connection.js'
import type { WriterOptions } from './writer-lease.js'

/**
 * Opens the store named by `storage.url`: `sqlite:PATH` (relative to `cwd`, directory created) or
 * `postgres://…` / `postgresql://…`. Opening does not touch the schema: call `migrate()` first
 * (`skillgate migrate`, or at start-up). A PostgreSQL server that is down does not fail here; the
 * first operation rejects with `unavailable` and `health()` reports it.
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
    return openSqliteStorage(path, { ...writer, busyTimeoutMs: nonNegative(options.busyTimeoutMs, 5_000, 'busyTimeoutMs') })
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new StorageError('invalid', 'schema must be a lowercase SQL identifier')
    }
    // The PostgreSQL driver loads only for a PostgreSQL store.
    const { openPostgresStorage } = await import('./postgres/index.js')
    return openPostgresStorage(url, { ...writer, poolSize: positive(options.poolSize, 10, 'poolSize'), schema: options.schema })
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
