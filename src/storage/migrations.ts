import { genesisHash } from '../audit/chain.js'
import type { MigrationResult } from './ports.js'
import type { Dialect } from './sql/db.js'
import { exec, get, run, type Step } from './sql/step.js'

/**
 * Versioned schema migrations, in code, written once for both stores with the few column types
 * that differ filled in by `sqlite/migrations.ts` and `postgres/migrations.ts`. All pending ones run
 * in order in one write transaction (DDL is transactional in both: a failed migration leaves the
 * previous version intact); SQLite's write lock and PostgreSQL's advisory lock
 * (`Dialect.beforeMigrations`) keep two processes from migrating at once.
 * Never edit a released migration; append a new one (adding a table: see sql-storage.ts).
 */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export interface SchemaTypes {
  /** 64-bit integer column: SQLite INTEGER, PostgreSQL BIGINT. */
  readonly int8: string
  /** List of texts: SQLite JSON text, PostgreSQL TEXT[]. */
  readonly textList: string
  /** Index on `audit_records.skills` where the store can use one (a PostgreSQL GIN index). */
  readonly listIndex: string
  /**
   * Whether a CHECK constraint can be replaced in place (PostgreSQL `ALTER TABLE … DROP/ADD
   * CONSTRAINT`); SQLite cannot, and rebuilds the table instead.
   */
  readonly alterChecks: boolean
}

/**
 * Migration 7's kind list, frozen here: a later kind is a new migration, never an edit of this one.
 * The first five are migration 4's.
 */
const ownedKinds7 = ['batch', 'file', 'container', 'skill', 'skill_version', 'agent', 'environment', 'session', 'deployment', 'deployment_run', 'vault', 'memory_store', 'tunnel']
  .map((kind) => `'${kind}'`)
  .join(', ')

/**
 * Widens `owned_objects.kind` to the Managed Agents kinds. PostgreSQL swaps the constraint (named
 * `owned_objects_kind_check` by its default naming in migration 4). SQLite rebuilds the table the way
 * its documentation prescribes for a changed constraint (create the new one, copy, drop, rename,
 * re-create the index), inside the migrations' one transaction, so a failure leaves v6 intact.
 */
function widenOwnedKinds(t: SchemaTypes): string {
  if (t.alterChecks) {
    return `
      ALTER TABLE owned_objects DROP CONSTRAINT owned_objects_kind_check;
      ALTER TABLE owned_objects ADD CONSTRAINT owned_objects_kind_check CHECK (kind IN (${ownedKinds7}));
    `
  }
  return `
    CREATE TABLE owned_objects_v7 (
      kind TEXT NOT NULL CHECK (kind IN (${ownedKinds7})),
      id TEXT NOT NULL,
      principal TEXT NOT NULL,
      rule TEXT,
      created_at ${t.int8} NOT NULL,
      assigned_by TEXT,
      PRIMARY KEY (kind, id)
    );
    INSERT INTO owned_objects_v7 (kind, id, principal, rule, created_at, assigned_by)
      SELECT kind, id, principal, rule, created_at, assigned_by FROM owned_objects;
    DROP TABLE owned_objects;
    ALTER TABLE owned_objects_v7 RENAME TO owned_objects;
    CREATE INDEX owned_objects_principal ON owned_objects (principal, kind);
  `
}

export function schemaMigrations(t: SchemaTypes): readonly Migration[] {
  return [
    {
      version: 1,
      name: 'audit chain, revocations, replay',
      sql: `
        CREATE TABLE audit_chain (
          seq ${t.int8} PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('open', 'close')),
          record_id TEXT NOT NULL,
          at ${t.int8} NOT NULL,
          body TEXT NOT NULL,
          prev_hash TEXT NOT NULL,
          hash TEXT NOT NULL
        );
        CREATE INDEX audit_chain_record ON audit_chain (record_id);
        CREATE TABLE audit_chain_head (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          seq ${t.int8} NOT NULL,
          hash TEXT NOT NULL
        );
        INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '${genesisHash}');
        CREATE TABLE audit_checkpoints (
          seq ${t.int8} PRIMARY KEY,
          hash TEXT NOT NULL,
          created_at ${t.int8} NOT NULL,
          before_at ${t.int8} NOT NULL,
          removed ${t.int8} NOT NULL
        );
        CREATE TABLE audit_records (
          id TEXT PRIMARY KEY,
          started_at ${t.int8} NOT NULL,
          ended_at ${t.int8},
          principal TEXT,
          issuer TEXT,
          rule TEXT,
          decision TEXT NOT NULL,
          outcome TEXT NOT NULL,
          skills ${t.textList} NOT NULL,
          writer TEXT NOT NULL,
          seq_open ${t.int8} NOT NULL,
          seq_close ${t.int8}
        );
        CREATE INDEX audit_records_principal ON audit_records (principal, id);
        CREATE INDEX audit_records_rule ON audit_records (rule, id);
        CREATE INDEX audit_records_outcome ON audit_records (outcome, id);
        CREATE INDEX audit_records_started ON audit_records (started_at);
        CREATE INDEX audit_records_seq_open ON audit_records (seq_open);
        CREATE INDEX audit_records_seq_close ON audit_records (seq_close);
        ${t.listIndex}
        CREATE TABLE audit_writers (
          id TEXT PRIMARY KEY,
          heartbeat_at ${t.int8} NOT NULL
        );
        CREATE TABLE revocations (
          kind TEXT NOT NULL CHECK (kind IN ('principal', 'token', 'issuer')),
          subject TEXT NOT NULL,
          jti TEXT NOT NULL DEFAULT '',
          revoked_before ${t.int8},
          expires_at ${t.int8},
          reason TEXT,
          actor TEXT,
          created_at ${t.int8} NOT NULL,
          PRIMARY KEY (kind, subject, jti)
        );
        CREATE TABLE revocation_version (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          version ${t.int8} NOT NULL
        );
        INSERT INTO revocation_version (id, version) VALUES (1, 0);
        CREATE TABLE replay_assertions (
          iss TEXT NOT NULL,
          jti TEXT NOT NULL,
          expires_at ${t.int8} NOT NULL,
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
          created_at ${t.int8} NOT NULL,
          expires_at ${t.int8} NOT NULL,
          decided_at ${t.int8},
          approver TEXT,
          reason TEXT,
          grant_id TEXT,
          version ${t.int8} NOT NULL
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
          version ${t.int8} NOT NULL
        );
        INSERT INTO review_version (id, version) VALUES (1, 0);
        CREATE TABLE grants (
          id TEXT PRIMARY KEY,
          principal TEXT NOT NULL,
          rule TEXT NOT NULL,
          review_id TEXT NOT NULL,
          approver TEXT NOT NULL,
          created_at ${t.int8} NOT NULL,
          expires_at ${t.int8} NOT NULL,
          uses_left ${t.int8} CHECK (uses_left IS NULL OR uses_left >= 0),
          revoked_at ${t.int8},
          revoked_by TEXT
        );
        CREATE INDEX grants_active ON grants (principal, rule, expires_at);
        CREATE TABLE counters (
          key TEXT NOT NULL,
          span TEXT NOT NULL CHECK (span IN ('minute', 'day')),
          window_start ${t.int8} NOT NULL,
          value ${t.int8} NOT NULL,
          PRIMARY KEY (key, span)
        );
        CREATE INDEX counters_window ON counters (window_start);
        CREATE TABLE slots (
          key TEXT NOT NULL,
          lease TEXT NOT NULL,
          expires_at ${t.int8} NOT NULL,
          PRIMARY KEY (key, lease)
        );
        CREATE INDEX slots_expiry ON slots (expires_at);
      `,
    },
    {
      version: 3,
      name: 'gateway signing keys, minted token sources',
      sql: `
        -- Private keys sealed with AES-256-GCM under gatewayTokens.keyEncryption: never plain text here.
        CREATE TABLE gateway_keys (
          kid TEXT PRIMARY KEY,
          created_at ${t.int8} NOT NULL,
          sealed TEXT NOT NULL
        );
        CREATE INDEX gateway_keys_created ON gateway_keys (created_at);
        CREATE TABLE minted_tokens (
          jti TEXT PRIMARY KEY,
          issuer_id TEXT NOT NULL,
          claims TEXT NOT NULL,
          expires_at ${t.int8} NOT NULL
        );
        CREATE INDEX minted_tokens_expiry ON minted_tokens (expires_at);
      `,
    },
    {
      version: 4,
      name: 'object ownership',
      sql: `
        CREATE TABLE owned_objects (
          kind TEXT NOT NULL CHECK (kind IN ('batch', 'file', 'container', 'skill', 'skill_version')),
          id TEXT NOT NULL,
          principal TEXT NOT NULL,
          rule TEXT,
          created_at ${t.int8} NOT NULL,
          assigned_by TEXT,
          PRIMARY KEY (kind, id)
        );
        CREATE INDEX owned_objects_principal ON owned_objects (principal, kind);
      `,
    },
    {
      version: 5,
      name: 'signed audit chain heads',
      // Copies of the heads sent to the sinks, for GET /admin/api/audit/heads and restore-mark.
      // Not trusted by verify beyond their signatures: deleting rows here hides nothing.
      sql: `
        CREATE TABLE audit_heads (
          jws TEXT PRIMARY KEY,
          position ${t.int8} NOT NULL,
          time ${t.int8} NOT NULL,
          writer TEXT NOT NULL,
          event TEXT
        );
        CREATE INDEX audit_heads_position ON audit_heads (position);
      `,
    },
    {
      version: 6,
      name: 'console sessions',
      sql: `
        CREATE TABLE admin_sessions (
          id TEXT PRIMARY KEY,
          secret_digest TEXT NOT NULL UNIQUE,
          issuer TEXT NOT NULL,
          subject TEXT NOT NULL,
          name TEXT,
          email TEXT,
          roles TEXT NOT NULL,
          created_at ${t.int8} NOT NULL,
          last_seen_at ${t.int8} NOT NULL,
          expires_at ${t.int8} NOT NULL
        );
        CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);
      `,
    },
    {
      version: 7,
      name: 'managed agents ownership kinds',
      sql: widenOwnedKinds(t),
    },
    {
      version: 8,
      name: 'review messages',
      sql: `
        -- Where a review's notification message is (a Slack channel and ts), so any replica can update it.
        CREATE TABLE review_messages (
          review_id TEXT NOT NULL,
          target TEXT NOT NULL,
          channel TEXT NOT NULL,
          ts TEXT NOT NULL,
          PRIMARY KEY (review_id, target)
        );
      `,
    },
    {
      version: 9,
      name: 'RFC 3161 timestamps of signed audit heads',
      // The TSA's TimeStampToken (DER, base64) over the head's JWS; NULL while none was obtained
      // (no audit.timestamping, or the TSA was unreachable when the head was signed).
      sql: `ALTER TABLE audit_heads ADD COLUMN timestamp TEXT;`,
    },
    {
      version: 10,
      name: 'audit indexes no query uses',
      // Every audit commit maintains every index of audit_chain and audit_records (and writes its
      // pages to the WAL). No query looks links up by record_id (links are read by seq). The one query
      // on seq_close is retention's straddler search, which now walks the seq_open index over the
      // records it is about to delete anyway: a rare admin operation pays what every commit saved.
      sql: `
        DROP INDEX IF EXISTS audit_chain_record;
        DROP INDEX IF EXISTS audit_records_seq_close;
      `,
    },
    {
      version: 11,
      name: 'approver display names',
      // The decider's name next to its stable id (`oidc:corp:00u1…` says little in the queue); NULL
      // for decisions made before, or by an approver without one.
      sql: `ALTER TABLE reviews ADD COLUMN approver_name TEXT;`,
    },
    {
      version: 12,
      name: 'console session role basis',
      // What the session's roles were derived from (see admin/sessions.ts roleBasisOf); NULL for
      // sessions opened before, which then end at their next use: their person signs in again.
      sql: `ALTER TABLE admin_sessions ADD COLUMN role_basis TEXT;`,
    },
  ]
}

/** The schema version a store is at (0 before the first migration). */
export function* schemaVersion(d: Dialect): Step<number> {
  if (!(yield* d.tableExists('skillgate_migrations'))) return 0
  return (yield* get<{ v: number | null }>('SELECT MAX(version) AS v FROM skillgate_migrations'))?.v ?? 0
}

/** Inside a write transaction: applies every migration above the store's version. */
export function* migrateSteps(d: Dialect, migrations: readonly Migration[], int8: string, now: number): Step<MigrationResult> {
  yield* d.beforeMigrations()
  yield* run(`CREATE TABLE IF NOT EXISTS skillgate_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${int8} NOT NULL)`)
  const from = (yield* get<{ v: number | null }>('SELECT MAX(version) AS v FROM skillgate_migrations'))?.v ?? 0
  for (const migration of migrations) {
    if (migration.version <= from) continue
    yield* exec(migration.sql)
    yield* run('INSERT INTO skillgate_migrations (version, name, applied_at) VALUES (?, ?, ?)', [migration.version, migration.name, now])
  }
  return { from, to: Math.max(from, migrations.length) }
}
