import { checkGrantQuery, grantColumns, grantFromRow, isGrantId, type GrantRow } from '../approval-rows.js'
import { StorageError } from '../errors.js'
import type { Grant, GrantListQuery, GrantPage, GrantStore } from '../ports-approvals.js'
import { activeGrant, grantFilter } from '../review-filter.js'
import { checkTime } from '../revocation-rows.js'
import type { PgDb } from './db.js'

/**
 * Just-in-time grants in PostgreSQL. A use is taken by one conditional UPDATE: the row lock makes
 * concurrent consumers on any replica queue up, and each re-checks the condition on the latest row
 * version, so a grant with n uses admits exactly n requests.
 */
export class PostgresGrantStore implements GrantStore {
  readonly #db: PgDb
  readonly #now: () => Date

  constructor(db: PgDb, now: () => Date) {
    this.#db = db
    this.#now = now
  }

  async activeFor(principal: string, rule: string, at?: Date): Promise<Grant | undefined> {
    const found = await this.#db.query<GrantRow>(
      'reading grants',
      `SELECT ${grantColumns} FROM grants WHERE principal = $1 AND rule = $2 AND ${activeGrant('$3')} ORDER BY expires_at, id LIMIT 1`,
      [principal, rule, this.#time(at)],
    )
    return found[0] === undefined ? undefined : grantFromRow(found[0])
  }

  async consume(grantId: string, at?: Date): Promise<boolean> {
    const now = this.#time(at)
    if (!isGrantId(grantId)) return false
    // `uses_left - 1` on NULL stays NULL: an unlimited grant is "used" without changing.
    const used = await this.#db.query('using a grant', `UPDATE grants SET uses_left = uses_left - 1 WHERE id = $1 AND ${activeGrant('$2')} RETURNING 1 AS ok`, [grantId, now])
    return used.length === 1
  }

  async get(id: string): Promise<Grant | undefined> {
    if (!isGrantId(id)) return undefined
    const found = await this.#db.query<GrantRow>('reading a grant', `SELECT ${grantColumns} FROM grants WHERE id = $1`, [id])
    return found[0] === undefined ? undefined : grantFromRow(found[0])
  }

  async list(query: GrantListQuery): Promise<GrantPage> {
    checkGrantQuery(query)
    const { where, params } = grantFilter(query, this.#now().getTime(), (n) => `$${n}`)
    const found = await this.#db.query<GrantRow>('listing grants', `SELECT ${grantColumns} FROM grants ${where} ORDER BY id DESC LIMIT $${params.length + 1}`, [
      ...params,
      query.limit + 1,
    ])
    const page = found.slice(0, query.limit).map(grantFromRow)
    return { grants: page, nextCursor: found.length > query.limit ? (page.at(-1)?.id ?? null) : null }
  }

  async revoke(id: string, actor: string): Promise<Grant> {
    const found = isGrantId(id)
      ? await this.#db.query<GrantRow>(
          'revoking a grant',
          `UPDATE grants SET revoked_at = COALESCE(revoked_at, $1), revoked_by = COALESCE(revoked_by, $2) WHERE id = $3 RETURNING ${grantColumns}`,
          [this.#now().getTime(), actor, id],
        )
      : []
    if (found[0] === undefined) throw new StorageError('not_found', `grant ${id} not found`)
    return grantFromRow(found[0])
  }

  #time(at: Date | undefined): number {
    if (at !== undefined) checkTime(at, 'now')
    return (at ?? this.#now()).getTime()
  }
}
