import { SqlAuditStore } from './audit-store.js'
import { SqlCounterStore } from './counter-store.js'
import { StorageError } from './errors.js'
import { SqlGatewayKeyStore } from './gateway-key-store.js'
import { SqlGrantStore } from './grant-store.js'
import { SqlMintedTokenStore } from './minted-store.js'
import { SqlOwnershipStore } from './ownership-store.js'
import { migrateSteps, schemaVersion, type Migration } from './migrations.js'
import type { MigrationResult, Storage, StorageHealth } from './ports.js'
import { SqlReplayStore, SqlRevocationStore } from './revocation-store.js'
import { SqlReviewStore } from './review-store.js'
import { SqlSessionStore } from './session-store.js'
import type { SqlDb } from './sql/db.js'
import type { WriterOptions } from './writer-lease.js'

/** The dialect's schema: its migrations, and its 64-bit integer type for the migrations table. */
export interface DialectSchema {
  readonly migrations: readonly Migration[]
  readonly int8: string
}

/**
 * A Storage on any SqlDb: every store is written once against the shared SQL layer.
 *
 * Adding a table and its queries is one store file plus one migration: append a migration to
 * `schemaMigrations` (migrations.ts; `${t.int8}` for 64-bit integers, `${t.textList}` for lists),
 * write `src/storage/<name>-store.ts` as a class over `SqlDb` whose methods run generator bodies
 * (`db.write/read/single` with `all/get/run` from sql/step.ts, `?` placeholders, `d.inList`,
 * `d.listContains`, `d.lock` where the dialects differ), declare its port next to the others in
 * ports*.ts and construct it here. Both stores then run the same code; the contract suite
 * (test/contract/) runs its tests against both.
 */
export function sqlStorage(db: SqlDb, schema: DialectSchema, options: WriterOptions): Storage {
  const audit = new SqlAuditStore(db, options)
  const name = db.dialect.name
  const latest = schema.migrations.length
  return {
    kind: name,
    audit,
    revocations: new SqlRevocationStore(db, options.now),
    replay: new SqlReplayStore(db, options.now),
    reviews: new SqlReviewStore(db, options.now),
    grants: new SqlGrantStore(db, options.now),
    counters: new SqlCounterStore(db, audit.batch, options.now, { onError: (error) => options.onError('counter-flush', error) }),
    minted: new SqlMintedTokenStore(db, options.now),
    gatewayKeys: new SqlGatewayKeyStore(db, options.now),
    owners: new SqlOwnershipStore(db, audit.batch, options.now),
    sessions: new SqlSessionStore(db, options.now),
    async migrate(): Promise<MigrationResult> {
      const now = options.now().getTime()
      const result = await db.write(`migrating the ${name} store`, (d) => migrateSteps(d, schema.migrations, schema.int8, now))
      if (result.from > latest) throw new StorageError('schema', `the store schema v${result.from} is newer than this skillgate (v${latest})`)
      return result
    },
    async health(): Promise<StorageHealth> {
      if (db.closed) return { ok: false, detail: 'closed' }
      try {
        const version = await db.read('reading the schema version', schemaVersion)
        if (version !== latest) return { ok: false, detail: `schema v${version}, expected v${latest}: run skillgate migrate` }
        return { ok: true, detail: `${name} schema v${version}` }
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
