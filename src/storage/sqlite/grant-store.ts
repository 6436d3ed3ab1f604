import { checkGrantQuery, grantColumns, grantFromRow, isGrantId, type GrantRow } from '../approval-rows.js'
import { StorageError } from '../errors.js'
import type { Grant, GrantListQuery, GrantPage, GrantStore } from '../ports-approvals.js'
import { activeGrant, grantFilter } from '../review-filter.js'
import { checkTime } from '../revocation-rows.js'
import type { SqliteConnection } from './connection.js'

/** Just-in-time grants in SQLite; a use is taken by one conditional UPDATE under the write lock. */
export class SqliteGrantStore implements GrantStore {
  readonly #conn: SqliteConnection
  readonly #now: () => Date

  constructor(conn: SqliteConnection, now: () => Date) {
    this.#conn = conn
    this.#now = now
  }

  async activeFor(principal: string, rule: string, at?: Date): Promise<Grant | undefined> {
    const now = this.#time(at)
    const row = this.#conn.read('reading grants', () =>
      this.#conn.stmt(`SELECT ${grantColumns} FROM grants WHERE principal = ? AND rule = ? AND ${activeGrant('?')} ORDER BY expires_at, id LIMIT 1`).get(principal, rule, now),
    ) as GrantRow | undefined
    return row === undefined ? undefined : grantFromRow(row)
  }

  async consume(grantId: string, at?: Date): Promise<boolean> {
    const now = this.#time(at)
    if (!isGrantId(grantId)) return false
    const result = this.#conn.write('using a grant', () =>
      this.#conn.stmt(`UPDATE grants SET uses_left = uses_left - 1 WHERE id = ? AND ${activeGrant('?')}`).run(grantId, now),
    )
    // `uses_left - 1` on NULL stays NULL: an unlimited grant is "used" without changing.
    return result.changes === 1
  }

  async get(id: string): Promise<Grant | undefined> {
    if (!isGrantId(id)) return undefined
    const row = this.#conn.read('reading a grant', () => this.#conn.stmt(`SELECT ${grantColumns} FROM grants WHERE id = ?`).get(id)) as GrantRow | undefined
    return row === undefined ? undefined : grantFromRow(row)
  }

  async list(query: GrantListQuery): Promise<GrantPage> {
    checkGrantQuery(query)
    const { where, params } = grantFilter(query, this.#now().getTime(), () => '?')
    const rows = this.#conn.read('listing grants', () =>
      this.#conn.stmt(`SELECT ${grantColumns} FROM grants ${where} ORDER BY id DESC LIMIT ?`).all(...params, query.limit + 1),
    ) as GrantRow[]
    const page = rows.slice(0, query.limit).map(grantFromRow)
    return { grants: page, nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null }
  }

  async revoke(id: string, actor: string): Promise<Grant> {
    const now = this.#now().getTime()
    const row = isGrantId(id)
      ? (this.#conn.write('revoking a grant', () =>
          this.#conn
            .stmt(`UPDATE grants SET revoked_at = COALESCE(revoked_at, ?), revoked_by = COALESCE(revoked_by, ?) WHERE id = ? RETURNING ${grantColumns}`)
            .get(now, actor, id),
        ) as GrantRow | undefined)
      : undefined
    if (row === undefined) throw new StorageError('not_found', `grant ${id} not found`)
    return grantFromRow(row)
  }

  #time(at: Date | undefined): number {
    if (at !== undefined) checkTime(at, 'now')
    return (at ?? this.#now()).getTime()
  }
}
