import type { Storage } from '../ports.js'
import { sqlStorage } from '../sql-storage.js'
import type { WriterOptions } from '../writer-lease.js'
import { PgDb } from './db.js'
import { postgresMigrations } from './migrations.js'

/**
 * The shared store for several replicas (SPEC §7). Every replica opens its own pool; the chain-head
 * row lock serialises audit appends; revocations and reviews carry a version replicas poll; grants
 * and counters are read and written in the store on every use.
 */
export function openPostgresStorage(url: string, options: WriterOptions & { poolSize: number; schema: string | undefined }): Storage {
  return sqlStorage(new PgDb(url, { poolSize: options.poolSize, schema: options.schema, onError: options.onError }), { migrations: postgresMigrations, int8: 'BIGINT' }, options)
}
