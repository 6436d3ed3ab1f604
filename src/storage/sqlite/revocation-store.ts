import { StorageError } from '../errors.js'
import type { ReplayStore, Revocation, RevocationMeta, RevocationSnapshot, RevocationStore } from '../ports.js'
import { checkTime, revocationFromRow, snapshotFromRows, type RevocationRow } from '../revocation-rows.js'
import type { SqliteConnection } from './connection.js'

/** Revocations with a version counter bumped in the same transaction as every change. */
export class SqliteRevocationStore implements RevocationStore {
  readonly #conn: SqliteConnection
  readonly #now: () => Date

  constructor(conn: SqliteConnection, now: () => Date) {
    this.#conn = conn
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
    const rows = this.#conn.read('listing revocations', () => this.#active())
    return rows.map(revocationFromRow)
  }

  async snapshot(): Promise<RevocationSnapshot> {
    return this.#conn.read('reading revocations', () => snapshotFromRows(this.#readVersion(), this.#active()))
  }

  async version(): Promise<number> {
    return this.#conn.read('reading the revocation version', () => this.#readVersion())
  }

  #active(): RevocationRow[] {
    return this.#conn
      .stmt(`SELECT kind, subject, jti, revoked_before, expires_at, reason, actor, created_at FROM revocations WHERE kind <> 'token' OR expires_at > ? ORDER BY created_at DESC, kind, subject, jti`)
      .all(this.#now().getTime()) as RevocationRow[]
  }

  #readVersion(): number {
    return (this.#conn.stmt('SELECT version FROM revocation_version WHERE id = 1').get() as { version: number }).version
  }

  #change(kind: string, subject: string, jti: string, revokedBefore: number | null, expiresAt: number | null, meta: RevocationMeta): number {
    const now = this.#now().getTime()
    return this.#conn.write('revoking', () => {
      this.#conn
        .stmt(
          `INSERT INTO revocations (kind, subject, jti, revoked_before, expires_at, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (kind, subject, jti) DO UPDATE SET revoked_before = excluded.revoked_before, expires_at = excluded.expires_at,
             reason = excluded.reason, actor = excluded.actor, created_at = excluded.created_at`,
        )
        .run(kind, subject, jti, revokedBefore, expiresAt, meta.reason ?? null, meta.actor ?? null, now)
      return this.#bump(now)
    })
  }

  #remove(kind: string, subject: string): number {
    const now = this.#now().getTime()
    return this.#conn.write('lifting a revocation', () => {
      this.#conn.stmt(`DELETE FROM revocations WHERE kind = ? AND subject = ? AND jti = ''`).run(kind, subject)
      return this.#bump(now)
    })
  }

  /** Also drops token revocations past their expiry: the tokens cannot verify any more. */
  #bump(now: number): number {
    this.#conn.stmt(`DELETE FROM revocations WHERE kind = 'token' AND expires_at <= ?`).run(now)
    this.#conn.stmt('UPDATE revocation_version SET version = version + 1 WHERE id = 1').run()
    return this.#readVersion()
  }
}

/** Single-use assertions: one upsert that only succeeds for a new or expired (iss, jti). */
export class SqliteReplayStore implements ReplayStore {
  readonly #conn: SqliteConnection
  readonly #now: () => Date
  #calls = 0

  constructor(conn: SqliteConnection, now: () => Date) {
    this.#conn = conn
    this.#now = now
  }

  async useOnce(iss: string, jti: string, expiresAt: Date): Promise<boolean> {
    checkTime(expiresAt, 'expiresAt')
    const now = this.#now().getTime()
    return this.#conn.write('recording a single-use assertion', () => {
      // Purge in small amortised steps rather than on a timer.
      if (++this.#calls % 256 === 0) this.#conn.stmt('DELETE FROM replay_assertions WHERE expires_at <= ?').run(now)
      const row = this.#conn
        .stmt(
          `INSERT INTO replay_assertions (iss, jti, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_assertions.expires_at <= ?
           RETURNING 1 AS used`,
        )
        .get(iss, jti, expiresAt.getTime(), now)
      return row !== undefined
    })
  }
}
