import { StorageError } from '../errors.js'
import type { ReplayStore, Revocation, RevocationMeta, RevocationSnapshot, RevocationStore } from '../ports.js'
import { checkTime, revocationFromRow, snapshotFromRows, type RevocationRow } from '../revocation-rows.js'
import { rows, type PgDb, type Queryable } from './db.js'

/**
 * Revocations with a version counter bumped in the same transaction as every change; replicas poll
 * `version()` (one indexed single-row read) and reload `snapshot()` when it moved, which keeps them
 * consistent within the poll interval (SPEC §7: one second).
 */
export class PostgresRevocationStore implements RevocationStore {
  readonly #db: PgDb
  readonly #now: () => Date

  constructor(db: PgDb, now: () => Date) {
    this.#db = db
    this.#now = now
  }

  async revokePrincipal(principal: string, before: Date, meta: RevocationMeta = {}): Promise<number> {
    checkTime(before, 'before')
    return this.#change('principal', principal, '', before.getTime(), null, meta)
  }

  async liftPrincipal(principal: string): Promise<number> {
    return this.#remove('principal', principal)
  }

  async revokeToken(iss: string, jti: string, expiresAt: Date, meta: RevocationMeta = {}): Promise<number> {
    checkTime(expiresAt, 'expiresAt')
    if (jti === '') throw new StorageError('invalid', 'jti must not be empty')
    return this.#change('token', iss, jti, null, expiresAt.getTime(), meta)
  }

  async disableIssuer(issuerId: string, meta: RevocationMeta = {}): Promise<number> {
    return this.#change('issuer', issuerId, '', null, null, meta)
  }

  async enableIssuer(issuerId: string): Promise<number> {
    return this.#remove('issuer', issuerId)
  }

  async list(): Promise<Revocation[]> {
    return (await this.#db.tx('listing revocations', (c) => this.#active(c))).map(revocationFromRow)
  }

  async snapshot(): Promise<RevocationSnapshot> {
    return this.#db.tx(
      'reading revocations',
      async (c) => snapshotFromRows(await this.#readVersion(c), await this.#active(c)),
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    )
  }

  async version(): Promise<number> {
    const row = (await this.#db.query<{ version: number }>('reading the revocation version', 'SELECT version FROM revocation_version WHERE id = 1'))[0]
    return row?.version ?? 0
  }

  #active(c: Queryable): Promise<RevocationRow[]> {
    return rows<RevocationRow>(
      c,
      `SELECT kind, subject, jti, revoked_before, expires_at, reason, actor, created_at FROM revocations
       WHERE kind <> 'token' OR expires_at > $1 ORDER BY created_at DESC, kind, subject, jti`,
      [this.#now().getTime()],
    )
  }

  async #readVersion(c: Queryable): Promise<number> {
    return (await rows<{ version: number }>(c, 'SELECT version FROM revocation_version WHERE id = 1'))[0]?.version ?? 0
  }

  #change(kind: string, subject: string, jti: string, revokedBefore: number | null, expiresAt: number | null, meta: RevocationMeta): Promise<number> {
    const now = this.#now().getTime()
    return this.#db.tx('revoking', async (c) => {
      await c.query(
        `INSERT INTO revocations (kind, subject, jti, revoked_before, expires_at, reason, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (kind, subject, jti) DO UPDATE SET revoked_before = EXCLUDED.revoked_before, expires_at = EXCLUDED.expires_at,
           reason = EXCLUDED.reason, actor = EXCLUDED.actor, created_at = EXCLUDED.created_at`,
        [kind, subject, jti, revokedBefore, expiresAt, meta.reason ?? null, meta.actor ?? null, now],
      )
      return this.#bump(c, now)
    })
  }

  #remove(kind: string, subject: string): Promise<number> {
    const now = this.#now().getTime()
    return this.#db.tx('lifting a revocation', async (c) => {
      await c.query(`DELETE FROM revocations WHERE kind = $1 AND subject = $2 AND jti = ''`, [kind, subject])
      return this.#bump(c, now)
    })
  }

  async #bump(c: Queryable, now: number): Promise<number> {
    await c.query(`DELETE FROM revocations WHERE kind = 'token' AND expires_at <= $1`, [now])
    return (await rows<{ version: number }>(c, 'UPDATE revocation_version SET version = version + 1 WHERE id = 1 RETURNING version'))[0]?.version ?? 0
  }
}

/** Single-use assertions: one upsert that only succeeds for a new or expired (iss, jti). */
export class PostgresReplayStore implements ReplayStore {
  readonly #db: PgDb
  readonly #now: () => Date
  #calls = 0

  constructor(db: PgDb, now: () => Date) {
    this.#db = db
    this.#now = now
  }

  async useOnce(iss: string, jti: string, expiresAt: Date): Promise<boolean> {
    checkTime(expiresAt, 'expiresAt')
    const now = this.#now().getTime()
    // Purge in small amortised steps rather than on a timer.
    if (++this.#calls % 256 === 0) await this.#db.query('purging used assertions', 'DELETE FROM replay_assertions WHERE expires_at <= $1', [now])
    const used = await this.#db.query(
      'recording a single-use assertion',
      `INSERT INTO replay_assertions (iss, jti, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (iss, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_assertions.expires_at <= $4
       RETURNING 1 AS used`,
      [iss, jti, expiresAt.getTime(), now],
    )
    return used.length === 1
  }
}
