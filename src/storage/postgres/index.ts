import { StorageError } from '../errors.js'
import type { MigrationResult, Storage, StorageHealth } from '../ports.js'
import type { WriterOptions } from '../writer-lease.js'
import { PostgresAuditStore } from './audit-store.js'
import { PgDb } from './db.js'
import { currentPostgresVersion, migratePostgres, postgresSchemaVersion } from './migrations.js'
import { PostgresCounterStore } from './counter-store.js'
import { PostgresGrantStore } from './grant-store.js'
import { PostgresReplayStore, PostgresRevocationStore } from './revocation-store.js'
import { PostgresReviewStore } from './review-store.js'

/**
 * The shared store for several replicas (SPEC §7). Every replica opens its own pool; the chain-head
 * row lock serialises audit appends; revocations and reviews carry a version replicas poll; grants
 * and counters are read and written in the store on every use.
 */
export function openPostgresStorage(url: string, options: WriterOptions & { poolSize: number; schema: string | undefined }): Storage {
  const db = new PgDb(url, { poolSize: options.poolSize, schema: options.schema })
  const audit = new PostgresAuditStore(db, options)
  return {
    kind: 'postgres',
    audit,
    revocations: new PostgresRevocationStore(db, options.now),
    replay: new PostgresReplayStore(db, options.now),
    reviews: new PostgresReviewStore(db, options.now),
    grants: new PostgresGrantStore(db, options.now),
    counters: new PostgresCounterStore(db, options.now),
    async migrate(): Promise<MigrationResult> {
      const result = await migratePostgres(db, options.now().getTime())
      if (result.from > postgresSchemaVersion) {
        throw new StorageError('schema', `the store schema v${result.from} is newer than this skillgate (v${postgresSchemaVersion})`)
      }
      return result
    },
    async health(): Promise<StorageHealth> {
      if (db.closed) return { ok: false, detail: 'closed' }
      try {
        const version = await currentPostgresVersion(db)
        if (version !== postgresSchemaVersion) return { ok: false, detail: `schema v${version}, expected v${postgresSchemaVersion}: run skillgate migrate` }
        return { ok: true, detail: `postgres schema v${version}` }
      } catch (error) {
        return { ok: false, detail: StorageError.is(error) ? error.message : 'unreachable' }
      }
    },
    async close(): Promise<void> {
      await audit.close()
      await db.close()
    },
  }
}
