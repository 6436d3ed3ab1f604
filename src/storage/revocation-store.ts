import { StorageError } from './errors.js'
import { revocationTokenKey, type ReplayStore, type Revocation, type RevocationMeta, type RevocationSnapshot, type RevocationStore } from './ports.js'
import { checkTime, type Stored } from './shared.js'
import type { SqlDb } from './sql/db.js'
import { all, get, run, type Step } from './sql/step.js'

/**
 * Revocations with a version counter bumped in the same transaction as every change; replicas poll
 * `version()` (one indexed single-row read) and reload `snapshot()` when it moved, which keeps them
 * consistent within the poll interval (SPEC §7: one second).
 */
export class SqlRevocationStore implements RevocationStore {
  constructor(private readonly db: SqlDb, private readonly now: () => Date) {}

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
    const now = this.now().getTime()
    return (await this.db.single('listing revocations', 'read', () => active(now))).map(revocationFromRow)
  }

  async snapshot(): Promise<RevocationSnapshot> {
    const now = this.now().getTime()
    return this.db.read('reading revocations', function* () {
      return snapshotFromRows(yield* readVersion(), yield* active(now))
    })
  }

  async version(): Promise<number> {
    return this.db.single('reading the revocation version', 'read', readVersion)
  }

  #change(kind: string, subject: string, jti: string, revokedBefore: number | null, expiresAt: number | null, meta: RevocationMeta): Promise<number> {
    const now = this.now().getTime()
    return this.db.write('revoking', function* () {
      yield* run(
        `INSERT INTO revocations (kind, subject, jti, revoked_before, expires_at, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (kind, subject, jti) DO UPDATE SET revoked_before = excluded.revoked_before, expires_at = excluded.expires_at,
           reason = excluded.reason, actor = excluded.actor, created_at = excluded.created_at`,
        [kind, subject, jti, revokedBefore, expiresAt, meta.reason ?? null, meta.actor ?? null, now],
      )
      return yield* bump(now)
    })
  }

  #remove(kind: string, subject: string): Promise<number> {
    const now = this.now().getTime()
    return this.db.write('lifting a revocation', function* () {
      yield* run(`DELETE FROM revocations WHERE kind = ? AND subject = ? AND jti = ''`, [kind, subject])
      return yield* bump(now)
    })
  }
}

function active(now: number): Step<RevocationRow[]> {
  return all<RevocationRow>(
    `SELECT kind, subject, jti, revoked_before AS "revokedBefore", expires_at AS "expiresAt", reason, actor, created_at AS "createdAt" FROM revocations
     WHERE kind <> 'token' OR expires_at > ? ORDER BY created_at DESC, kind, subject, jti`,
    [now],
  )
}

/** Row of `revocations` (see `Stored`); `jti` is '' but for a token. */
type RevocationRow = Stored<Omit<Revocation, 'jti'>> & { readonly jti: string }

function revocationFromRow(row: RevocationRow): Revocation {
  return {
    ...row,
    jti: row.kind === 'token' ? row.jti : null,
    revokedBefore: row.revokedBefore === null ? null : new Date(row.revokedBefore),
    expiresAt: row.expiresAt === null ? null : new Date(row.expiresAt),
    createdAt: new Date(row.createdAt),
  }
}

function snapshotFromRows(version: number, rows: readonly RevocationRow[]): RevocationSnapshot {
  const principals = new Map<string, number>()
  const tokens = new Map<string, number>()
  const issuers = new Set<string>()
  for (const row of rows) {
    if (row.kind === 'principal' && row.revokedBefore !== null) principals.set(row.subject, row.revokedBefore)
    else if (row.kind === 'token' && row.expiresAt !== null) tokens.set(revocationTokenKey(row.subject, row.jti), row.expiresAt)
    else if (row.kind === 'issuer') issuers.add(row.subject)
  }
  return { version, principals, tokens, issuers }
}

function* readVersion(): Step<number> {
  return (yield* get<{ version: number }>('SELECT version FROM revocation_version WHERE id = 1'))?.version ?? 0
}

/** Inside a write transaction. Also drops token revocations past their expiry: the tokens cannot verify any more. */
function* bump(now: number): Step<number> {
  yield* run(`DELETE FROM revocations WHERE kind = 'token' AND expires_at <= ?`, [now])
  return (yield* get<{ version: number }>('UPDATE revocation_version SET version = version + 1 WHERE id = 1 RETURNING version'))?.version ?? 0
}

/** Single-use assertions: one upsert that only succeeds for a new or expired (iss, jti). */
export class SqlReplayStore implements ReplayStore {
  #calls = 0

  constructor(private readonly db: SqlDb, private readonly now: () => Date) {}

  async useOnce(iss: string, jti: string, expiresAt: Date): Promise<boolean> {
    checkTime(expiresAt, 'expiresAt')
    const now = this.now().getTime()
    // Purge in small amortised steps rather than on a timer.
    if (++this.#calls % 256 === 0) await this.db.single('purging used assertions', 'write', () => run('DELETE FROM replay_assertions WHERE expires_at <= ?', [now]))
    const used = await this.db.single('recording a single-use assertion', 'write', () =>
      get(
        `INSERT INTO replay_assertions (iss, jti, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_assertions.expires_at <= ?
         RETURNING 1 AS used`,
        [iss, jti, expiresAt.getTime(), now],
      ),
    )
    return used !== undefined
  }
}
