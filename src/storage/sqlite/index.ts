import type { Storage } from '../ports.js'
import { sqlStorage } from '../sql-storage.js'
import type { WriterOptions } from '../writer-lease.js'
import { SqliteDb } from './connection.js'
import { sqliteMigrations } from './migrations.js'

/**
 * The single-node default: one file, WAL, shared by every worker process (`--workers N`). Each
 * worker opens its own Storage; the file's write lock keeps the audit chain linear.
 */
export function openSqliteStorage(path: string, options: WriterOptions & { busyTimeoutMs: number }): Storage {
  return sqlStorage(new SqliteDb(path, options.busyTimeoutMs), { migrations: sqliteMigrations, int8: 'INTEGER' }, options)
}
