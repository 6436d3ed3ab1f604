import { genesisHash } from '../../audit/chain.js'
import type { MigrationResult } from '../ports.js'
import { rows, type PgDb } from './db.js'

/**
 * Versioned schema migrations, in code. All of them run in one transaction under a transaction-level
 * advisory lock, so replicas starting together migrate once and the others wait, then find nothing
 * to do. PostgreSQL DDL is transactional: a failed migration leaves the previous version intact.
 * Never edit a released migration; append a new one.
 */
interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'audit chain, revocations, replay',
    sql: `
      CREATE TABLE audit_chain (
        seq BIGINT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('open', 'close')),
        record_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_chain_record ON audit_chain (record_id);
      CREATE TABLE audit_chain_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL
      );
      INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '${genesisHash}');
      CREATE TABLE audit_checkpoints (
        seq BIGINT PRIMARY KEY,
        hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        before_at BIGINT NOT NULL,
        removed BIGINT NOT NULL
      );
      CREATE TABLE audit_records (
        id TEXT PRIMARY KEY,
        started_at BIGINT NOT NULL,
        ended_at BIGINT,
        principal TEXT,
        issuer TEXT,
        rule TEXT,
        decision TEXT NOT NULL,
        outcome TEXT NOT NULL,
        skills TEXT[] NOT NULL,
        writer TEXT NOT NULL,
        seq_open BIGINT NOT NULL,
        seq_close BIGINT
      );
      CREATE INDEX audit_records_principal ON audit_records (principal, id);
      CREATE INDEX audit_records_rule ON audit_records (rule, id);
      CREATE INDEX audit_records_outcome ON audit_records (outcome, id);
      CREATE INDEX audit_records_started ON audit_records (started_at);
      CREATE INDEX audit_records_seq_open ON audit_records (seq_open);
      CREATE INDEX audit_records_seq_close ON audit_records (seq_close);
      CREATE INDEX audit_records_skills ON audit_records USING GIN (skills);
      CREATE TABLE audit_writers (
        id TEXT PRIMARY KEY,
        heartbeat_at BIGINT NOT NULL
      );
      CREATE TABLE revocations (
        kind TEXT NOT NULL CHECK (kind IN ('principal', 'token', 'issuer')),
        subject TEXT NOT NULL,
        jti TEXT NOT NULL DEFAULT '',
        revoked_before BIGINT,
        expires_at BIGINT,
        reason TEXT,
        actor TEXT,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (kind, subject, jti)
      );
      CREATE TABLE revocation_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version BIGINT NOT NULL
      );
      INSERT INTO revocation_version (id, version) VALUES (1, 0);
      CREATE TABLE replay_assertions (
        iss TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (iss, jti)
      );
      CREATE INDEX replay_assertions_expiry ON replay_assertions (expires_at);
    `,
  },
  {
    version: 2,
    name: 'reviews, grants, counters, slots',
    sql: `
      CREATE TABLE reviews (
        id TEXT PRIMARY KEY,
        principal TEXT NOT NULL,
        rule TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired')),
        summary TEXT NOT NULL,
        requester TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        decided_at BIGINT,
        approver TEXT,
        reason TEXT,
        grant_id TEXT,
        version BIGINT NOT NULL
      );
      -- At most one pending review per (principal, rule, fingerprint): retries join it.
      CREATE UNIQUE INDEX reviews_pending ON reviews (principal, rule, fingerprint) WHERE state = 'pending';
      CREATE INDEX reviews_state ON reviews (state, id);
      CREATE INDEX reviews_principal ON reviews (principal, id);
      CREATE INDEX reviews_rule ON reviews (rule, id);
      CREATE INDEX reviews_version ON reviews (version);
      CREATE INDEX reviews_expiry ON reviews (expires_at) WHERE state = 'pending';
      CREATE TABLE review_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version BIGINT NOT NULL
      );
      INSERT INTO review_version (id, version) VALUES (1, 0);
      CREATE TABLE grants (
        id TEXT PRIMARY KEY,
        principal TEXT NOT NULL,
        rule TEXT NOT NULL,
        review_id TEXT NOT NULL,
        approver TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        uses_left BIGINT CHECK (uses_left IS NULL OR uses_left >= 0),
        revoked_at BIGINT,
        revoked_by TEXT
      );
      CREATE INDEX grants_active ON grants (principal, rule, expires_at);
      CREATE TABLE counters (
        key TEXT NOT NULL,
        span TEXT NOT NULL CHECK (span IN ('minute', 'day')),
        window_start BIGINT NOT NULL,
        value BIGINT NOT NULL,
        PRIMARY KEY (key, span)
      );
      CREATE INDEX counters_window ON counters (window_start);
      CREATE TABLE slots (
        key TEXT NOT NULL,
        lease TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (key, lease)
      );
      CREATE INDEX slots_expiry ON slots (expires_at);
    `,
  },
]

export const postgresSchemaVersion = postgresMigrations.length

export async function currentPostgresVersion(db: PgDb): Promise<number> {
  const found = await db.query<{ t: string | null }>('reading the schema version', `SELECT to_regclass('skillgate_migrations')::text AS t`)
  if (found[0]?.t === null || found[0] === undefined) return 0
  const version = await db.query<{ v: number | null }>('reading the schema version', 'SELECT MAX(version) AS v FROM skillgate_migrations')
  return version[0]?.v ?? 0
}

export async function migratePostgres(db: PgDb, now: number): Promise<MigrationResult> {
  return db.tx('migrating the PostgreSQL store', async (client) => {
    // Keyed by schema so stores in different schemas of one database do not wait for each other.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('skillgate:migrate:' || COALESCE($1::text, current_schema(), '')))`, [db.schema ?? null])
    // The schema name was checked to be a plain identifier by openStorage.
    if (db.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`)
    await client.query('CREATE TABLE IF NOT EXISTS skillgate_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)')
    const from = (await rows<{ v: number | null }>(client, 'SELECT MAX(version) AS v FROM skillgate_migrations'))[0]?.v ?? 0
    for (const migration of postgresMigrations) {
      if (migration.version <= from) continue
      await client.query(migration.sql)
      await client.query('INSERT INTO skillgate_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, now])
    }
    return { from, to: Math.max(from, postgresSchemaVersion) }
  })
}
