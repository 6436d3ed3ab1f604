import { ulid } from 'ulid'
import { StorageError } from './errors.js'
import type { AdminSession, NewAdminSession, SessionStore } from './ports-sessions.js'
import type { SqlDb } from './sql/db.js'
import { all, get, run } from './sql/step.js'
import { readJson, type Stored } from './shared.js'

/** See `Stored`; roles as JSON text. */
type SessionRow = Stored<Omit<AdminSession, 'roles'>> & { readonly roles: string }

const columns = 'id, issuer, subject, name, email, roles, role_basis AS "roleBasis", created_at AS "createdAt", last_seen_at AS "lastSeenAt", expires_at AS "expiresAt"'
const sessionId = /^ses_[0-9A-HJKMNP-TV-Z]{26}$/
const digestShape = /^[0-9a-f]{64}$/

/** Console sessions (`admin_sessions`): one row each, read on every request that carries its cookie. */
export class SqlSessionStore implements SessionStore {
  constructor(private readonly db: SqlDb, private readonly now: () => Date) {}

  async create(session: NewAdminSession): Promise<AdminSession> {
    if (!digestShape.test(session.secretDigest)) throw new StorageError('invalid', 'a session is stored by the hex SHA-256 of its cookie')
    if (typeof session.roleBasis !== 'string' || session.roleBasis === '') throw new StorageError('invalid', 'a session needs the basis of its roles')
    const now = this.now().getTime()
    const row = await this.db.single('opening a session', 'write', () =>
      get<SessionRow>(
        `INSERT INTO admin_sessions (id, secret_digest, issuer, subject, name, email, roles, role_basis, created_at, last_seen_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${columns}`,
        [`ses_${ulid(now)}`, session.secretDigest, session.issuer, session.subject, session.name ?? null, session.email ?? null, JSON.stringify(session.roles), session.roleBasis, now, now, session.expiresAt.getTime()],
      ),
    )
    if (row === undefined) throw new StorageError('unavailable', 'the session was not stored')
    return fromRow(row)
  }

  async touch(secretDigest: string, idleMs: number, at?: Date): Promise<AdminSession | undefined> {
    if (!digestShape.test(secretDigest)) return undefined
    const now = (at ?? this.now()).getTime()
    const row = await this.db.single('reading a session', 'write', () =>
      get<SessionRow>(`UPDATE admin_sessions SET last_seen_at = ? WHERE secret_digest = ? AND expires_at > ? AND last_seen_at > ? RETURNING ${columns}`, [now, secretDigest, now, now - idleMs]),
    )
    return row === undefined ? undefined : fromRow(row)
  }

  async list(at?: Date): Promise<AdminSession[]> {
    const now = (at ?? this.now()).getTime()
    const rows = await this.db.single('listing sessions', 'read', () => all<SessionRow>(`SELECT ${columns} FROM admin_sessions WHERE expires_at > ? ORDER BY id DESC LIMIT 1000`, [now]))
    return rows.map(fromRow)
  }

  async revoke(id: string): Promise<boolean> {
    if (!sessionId.test(id)) return false
    return (await this.db.single('ending a session', 'write', () => run('DELETE FROM admin_sessions WHERE id = ?', [id]))) > 0
  }

  async revokeByDigest(secretDigest: string): Promise<boolean> {
    if (!digestShape.test(secretDigest)) return false
    return (await this.db.single('signing out', 'write', () => run('DELETE FROM admin_sessions WHERE secret_digest = ?', [secretDigest]))) > 0
  }

  async prune(idleMs: number, at?: Date): Promise<number> {
    const now = (at ?? this.now()).getTime()
    return this.db.single('pruning sessions', 'write', () => run('DELETE FROM admin_sessions WHERE expires_at <= ? OR last_seen_at <= ?', [now, now - idleMs]))
  }
}

function fromRow(row: SessionRow): AdminSession {
  const roles = readJson<unknown>(row.roles, `session ${row.id} roles`)
  return {
    ...row,
    roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [],
    createdAt: new Date(row.createdAt),
    lastSeenAt: new Date(row.lastSeenAt),
    expiresAt: new Date(row.expiresAt),
  }
}
