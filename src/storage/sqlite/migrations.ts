import type Database from 'better-sqlite3'
import { genesisHash } from '../../audit/chain.js'
import type { MigrationResult } from '../ports.js'

/**
 * Versioned schema migrations, in code, applied in order inside one `BEGIN IMMEDIATE` transaction
 * (SQLite DDL is transactional and the write lock keeps two processes from migrating at once).
 * Never edit a released migration; append a new one.
 */
interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'audit chain, revocations, replay',
    sql: `
      CREATE TABLE audit_chain (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('open', 'close')),
        record_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_chain_record ON audit_chain (record_id);
      CREATE TABLE audit_chain_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
      );
      INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '${genesisHash}');
      CREATE TABLE audit_checkpoints (
        seq INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        before_at INTEGER NOT NULL,
        removed INTEGER NOT NULL
      );
      CREATE TABLE audit_records (
        id TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        principal TEXT,
        issuer TEXT,
        rule TEXT,
        decision TEXT NOT NULL,
        outcome TEXT NOT NULL,
        skills TEXT NOT NULL,
        writer TEXT NOT NULL,
        seq_open INTEGER NOT NULL,
        seq_close INTEGER
      );
      CREATE INDEX audit_records_principal ON audit_records (principal, id);
      CREATE INDEX audit_records_rule ON audit_records (rule, id);
      CREATE INDEX audit_records_outcome ON audit_records (outcome, id);
      CREATE INDEX audit_records_started ON audit_records (started_at);
      CREATE INDEX audit_records_seq_open ON audit_records (seq_open);
      CREATE INDEX audit_records_seq_close ON audit_records (seq_close);
      CREATE TABLE audit_writers (
        id TEXT PRIMARY KEY,
        heartbeat_at INTEGER NOT NULL
      );
      CREATE TABLE revocations (
        kind TEXT NOT NULL CHECK (kind IN ('principal', 'token', 'issuer')),
        subject TEXT NOT NULL,
        jti TEXT NOT NULL DEFAULT '',
        revoked_before INTEGER,
        expires_at INTEGER,
        reason TEXT,
        actor TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (kind, subject, jti)
      );
      CREATE TABLE revocation_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
      );
      INSERT INTO revocation_version (id, version) VALUES (1, 0);
      CREATE TABLE replay_assertions (
        iss TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
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
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        decided_at INTEGER,
        approver TEXT,
        reason TEXT,
        grant_id TEXT,
        version INTEGER NOT NULL
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
        version INTEGER NOT NULL
      );
      INSERT INTO review_version (id, version) VALUES (1, 0);
      CREATE TABLE grants (
        id TEXT PRIMARY KEY,
        principal TEXT NOT NULL,
        rule TEXT NOT NULL,
        review_id TEXT NOT NULL,
        approver TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        uses_left INTEGER CHECK (uses_left IS NULL OR uses_left >= 0),
        revoked_at INTEGER,
        revoked_by TEXT
      );
      CREATE INDEX grants_active ON grants (principal, rule, expires_at);
      CREATE TABLE counters (
        key TEXT NOT NULL,
        span TEXT NOT NULL CHECK (span IN ('minute', 'day')),
        window_start INTEGER NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (key, span)
      );
      CREATE INDEX counters_window ON counters (window_start);
      CREATE TABLE slots (
        key TEXT NOT NULL,
        lease TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (key, lease)
      );
      CREATE INDEX slots_expiry ON slots (expires_at);
    `,
  },
]

export const sqliteSchemaVersion = sqliteMigrations.length

const versionTable = `CREATE TABLE IF NOT EXISTS skillgate_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`

export function currentSqliteVersion(db: Database.Database): number {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'skillgate_migrations'`).get()
  if (!exists) return 0
  const row = db.prepare('SELECT MAX(version) AS v FROM skillgate_migrations').get() as { v: number | null }
  return row.v ?? 0
}

export function migrateSqlite(db: Database.Database, now: number): MigrationResult {
  const run = db.transaction((): MigrationResult => {
    db.exec(versionTable)
    const from = currentSqliteVersion(db)
    for (const migration of sqliteMigrations) {
      if (migration.version <= from) continue
      db.exec(migration.sql)
      db.prepare('INSERT INTO skillgate_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, now)
    }
    return { from, to: Math.max(from, sqliteSchemaVersion) }
  })
  return run.immediate()
}
