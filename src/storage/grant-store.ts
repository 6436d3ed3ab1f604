import { grantColumns, grantFromRow, isGrantId, type GrantRow } from './approval-rows.js'
import { StorageError } from './errors.js'
import type { Grant, GrantListQuery, GrantPage, GrantStore } from './ports-approvals.js'
import { activeGrant, grantFilter } from './review-filter.js'
import { checkPage, checkTime } from './shared.js'
import type { SqlDb } from './sql/db.js'
import { all, get, run } from './sql/step.js'

/**
 * Just-in-time grants. A use is taken by one conditional UPDATE: SQLite's write lock, or in
 * PostgreSQL the row lock, makes concurrent consumers queue up, and each re-checks the condition on
 * the latest row version, so a grant with n uses admits exactly n requests.
 */
export class SqlGrantStore implements GrantStore {
  constructor(private readonly db: SqlDb, private readonly now: () => Date) {}

  async activeFor(principal: string, rule: string, at?: Date): Promise<Grant | undefined> {
    const now = this.#time(at)
    const row = await this.db.single('reading grants', 'read', () =>
      get<GrantRow>(`SELECT ${grantColumns} FROM grants WHERE principal = ? AND rule = ? AND ${activeGrant} ORDER BY expires_at, id LIMIT 1`, [principal, rule, now]),
    )
    return row === undefined ? undefined : grantFromRow(row)
  }

  async consume(grantId: string, at?: Date): Promise<boolean> {
    const now = this.#time(at)
    if (!isGrantId(grantId)) return false
    // `uses_left - 1` on NULL stays NULL: an unlimited grant is "used" without changing.
    const changed = await this.db.single('using a grant', 'write', () => run(`UPDATE grants SET uses_left = uses_left - 1 WHERE id = ? AND ${activeGrant}`, [grantId, now]))
    return changed === 1
  }

  async get(id: string): Promise<Grant | undefined> {
    if (!isGrantId(id)) return undefined
    const row = await this.db.single('reading a grant', 'read', () => get<GrantRow>(`SELECT ${grantColumns} FROM grants WHERE id = ?`, [id]))
    return row === undefined ? undefined : grantFromRow(row)
  }

  async list(query: GrantListQuery): Promise<GrantPage> {
    checkPage(query, isGrantId)
    const { where, params } = grantFilter(query, this.now().getTime())
    const found = await this.db.single('listing grants', 'read', () => all<GrantRow>(`SELECT ${grantColumns} FROM grants ${where} ORDER BY id DESC LIMIT ?`, [...params, query.limit + 1]))
    const page = found.slice(0, query.limit).map(grantFromRow)
    return { grants: page, nextCursor: found.length > query.limit ? (page.at(-1)?.id ?? null) : null }
  }

  async revoke(id: string, actor: string): Promise<Grant> {
    const now = this.now().getTime()
    const row = isGrantId(id)
      ? await this.db.single('revoking a grant', 'write', () =>
          get<GrantRow>(`UPDATE grants SET revoked_at = COALESCE(revoked_at, ?), revoked_by = COALESCE(revoked_by, ?) WHERE id = ? RETURNING ${grantColumns}`, [now, actor, id]),
        )
      : undefined
    if (row === undefined) throw new StorageError('not_found', `grant ${id} not found`)
    return grantFromRow(row)
  }

  #time(at: Date | undefined): number {
    if (at !== undefined) checkTime(at, 'now')
    return (at ?? this.now()).getTime()
  }
}
