import { StorageError, asStorageError } from '../errors.js'
import type { MigrationResult, Storage, StorageHealth } from '../ports.js'
import type { WriterOptions } from '../writer-lease.js'
import { SqliteAuditStore } from './audit-store.js'
import { SqliteConnection } from './connection.js'
import { currentSqliteVersion, migrateSqlite, sqliteSchemaVersion } from './migrations.js'
import { SqliteCounterStore } from './counter-store.js'
import { SqliteGrantStore } from './grant-store.js'
import { SqliteReplayStore, SqliteRevocationStore } from './revocation-store.js'
import { SqliteReviewStore } from './review-store.js'

/**
 * The single-node default: one file, WAL, shared by every worker process (`--workers N`). Each
 * worker opens its own Storage; the file's write lock keeps the audit chain linear.
 */
export function openSqliteStorage(path: string, options: WriterOptions & { busyTimeoutMs: number }): Storage {
  const conn = new SqliteConnection(path, options.busyTimeoutMs)
  const audit = new SqliteAuditStore(conn, options)
  return {
    kind: 'sqlite',
    audit,
    revocations: new SqliteRevocationStore(conn, options.now),
    replay: new SqliteReplayStore(conn, options.now),
    reviews: new SqliteReviewStore(conn, options.now),
    grants: new SqliteGrantStore(conn, options.now),
    counters: new SqliteCounterStore(conn, options.now),
    async migrate(): Promise<MigrationResult> {
      if (!conn.open) throw new StorageError('unavailable', 'the SQLite store is closed')
      let result: MigrationResult
      try {
        result = migrateSqlite(conn.db, options.now().getTime())
      } catch (error) {
        throw asStorageError(error, 'migrating the SQLite store')
      }
      if (result.from > sqliteSchemaVersion) {
        throw new StorageError('schema', `the store schema v${result.from} is newer than this skillgate (v${sqliteSchemaVersion})`)
      }
      return result
    },
    async health(): Promise<StorageHealth> {
      if (!conn.open) return { ok: false, detail: 'closed' }
      try {
        const version = currentSqliteVersion(conn.db)
        if (version !== sqliteSchemaVersion) return { ok: false, detail: `schema v${version}, expected v${sqliteSchemaVersion}: run skillgate migrate` }
        return { ok: true, detail: `sqlite schema v${version}` }
      } catch (error) {
        return { ok: false, detail: asStorageError(error, 'health check').message }
      }
    },
    async close(): Promise<void> {
      await audit.close()
      conn.close()
    },
  }
}
