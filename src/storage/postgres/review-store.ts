import {
  checkDecision,
  checkNewReview,
  checkReviewQuery,
  decideRefusal,
  grantColumns,
  grantFromRow,
  isReviewId,
  isSelfApproval,
  newGrantId,
  newReviewId,
  reviewColumns,
  reviewFromRow,
  trimReason,
  type GrantRow,
  type ReviewRow,
} from '../approval-rows.js'
import { StorageError } from '../errors.js'
import type {
  NewReview,
  Review,
  ReviewCreateResult,
  ReviewDecisionInput,
  ReviewDecisionResult,
  ReviewListQuery,
  ReviewPage,
  ReviewStore,
} from '../ports-approvals.js'
import { reviewFilter } from '../review-filter.js'
import { checkTime } from '../revocation-rows.js'
import { rows, type PgDb, type Queryable } from './db.js'

/**
 * Reviews in PostgreSQL. Every writing transaction first takes the next value of the
 * `review_version` row. Its row lock is held until commit, which (1) hands out versions in commit
 * order, so a replica polling `changedSince(v)` never skips a change that commits late, (2)
 * serialises writers on one lock taken first, so they cannot deadlock on review rows, and (3)
 * makes concurrent creators of the same review meet one after the other.
 */
export class PostgresReviewStore implements ReviewStore {
  readonly #db: PgDb
  readonly #now: () => Date

  constructor(db: PgDb, now: () => Date) {
    this.#db = db
    this.#now = now
  }

  async create(input: NewReview): Promise<ReviewCreateResult> {
    checkNewReview(input)
    const now = this.#now().getTime()
    const key = [input.principal, input.rule, input.fingerprint]
    return this.#db.tx('opening a review', async (c) => {
      const version = await bump(c)
      await c.query(`UPDATE reviews SET state = 'expired', version = $4 WHERE principal = $1 AND rule = $2 AND fingerprint = $3 AND state = 'pending' AND expires_at <= $5`, [
        ...key,
        version,
        now,
      ])
      // Creators are serialised by the version row, so a loser of the race finds the winner's
      // committed row here (READ COMMITTED: each statement sees what committed before it).
      const inserted = await rows<ReviewRow>(
        c,
        `INSERT INTO reviews (id, principal, rule, fingerprint, state, summary, requester, created_at, expires_at, version)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9)
         ON CONFLICT (principal, rule, fingerprint) WHERE state = 'pending' DO NOTHING RETURNING ${reviewColumns}`,
        [newReviewId(now), ...key, JSON.stringify(input.summary), JSON.stringify(input.requester), now, input.expiresAt.getTime(), version],
      )
      if (inserted[0] !== undefined) return { review: reviewFromRow(inserted[0], now), created: true }
      const existing = await rows<ReviewRow>(c, `SELECT ${reviewColumns} FROM reviews WHERE principal = $1 AND rule = $2 AND fingerprint = $3 AND state = 'pending'`, key)
      if (existing[0] === undefined) throw new StorageError('conflict', 'a concurrent review was decided while this one was opened; retry')
      return { review: reviewFromRow(existing[0], now), created: false }
    })
  }

  async get(id: string): Promise<Review | undefined> {
    if (!isReviewId(id)) return undefined
    const now = this.#now().getTime()
    const row = (await this.#db.query<ReviewRow>('reading a review', `SELECT ${reviewColumns} FROM reviews WHERE id = $1`, [id]))[0]
    return row === undefined ? undefined : reviewFromRow(row, now)
  }

  async list(query: ReviewListQuery): Promise<ReviewPage> {
    checkReviewQuery(query)
    const now = this.#now().getTime()
    const { where, params } = reviewFilter(query, now, (n) => `$${n}`)
    const found = await this.#db.query<ReviewRow>('listing reviews', `SELECT ${reviewColumns} FROM reviews ${where} ORDER BY id DESC LIMIT $${params.length + 1}`, [
      ...params,
      query.limit + 1,
    ])
    const page = found.slice(0, query.limit).map((row) => reviewFromRow(row, now))
    return { reviews: page, nextCursor: found.length > query.limit ? (page.at(-1)?.id ?? null) : null }
  }

  async decide(id: string, input: ReviewDecisionInput): Promise<ReviewDecisionResult> {
    checkDecision(input)
    const now = this.#now().getTime()
    return this.#db.tx('deciding a review', async (c) => {
      const version = await bump(c)
      // Two approvers deciding at once are serialised by the version row; the second sees the first's state.
      const row = isReviewId(id) ? (await rows<ReviewRow>(c, `SELECT ${reviewColumns} FROM reviews WHERE id = $1`, [id]))[0] : undefined
      if (row === undefined || row.state !== 'pending' || row.expires_at <= now) throw decideRefusal(id, row, now)
      const review = reviewFromRow(row, now)
      if (isSelfApproval(review, input.approver)) throw new StorageError('forbidden', `review ${id}: the requester cannot approve its own request`)
      let grant: GrantRow | undefined
      if (input.decision === 'approved' && input.grant !== undefined) {
        grant = (
          await rows<GrantRow>(
            c,
            `INSERT INTO grants (id, principal, rule, review_id, approver, created_at, expires_at, uses_left) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${grantColumns}`,
            [newGrantId(now), row.principal, row.rule, id, input.approver.id, now, input.grant.expiresAt.getTime(), input.grant.uses],
          )
        )[0]
      }
      const updated = await rows<ReviewRow>(
        c,
        `UPDATE reviews SET state = $1, decided_at = $2, approver = $3, reason = $4, grant_id = $5, version = $6 WHERE id = $7 RETURNING ${reviewColumns}`,
        [input.decision, now, input.approver.id, trimReason(input.reason), grant?.id ?? null, version, id],
      )
      return { review: reviewFromRow(updated[0] as ReviewRow, now), grant: grant === undefined ? null : grantFromRow(grant) }
    })
  }

  async expire(at?: Date): Promise<Review[]> {
    if (at !== undefined) checkTime(at, 'now')
    const now = (at ?? this.#now()).getTime()
    // Most sweeps find nothing: do not lock the version row for them.
    const due = await this.#db.query('reading due reviews', `SELECT 1 FROM reviews WHERE state = 'pending' AND expires_at <= $1 LIMIT 1`, [now])
    if (due.length === 0) return []
    const expired = await this.#db.tx('expiring reviews', async (c) => {
      const version = await bump(c)
      return rows<ReviewRow>(c, `UPDATE reviews SET state = 'expired', version = $1 WHERE state = 'pending' AND expires_at <= $2 RETURNING ${reviewColumns}`, [version, now])
    })
    return expired.map((row) => reviewFromRow(row, now)).sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  async version(): Promise<number> {
    const row = (await this.#db.query<{ version: number }>('reading the review version', 'SELECT version FROM review_version WHERE id = 1'))[0]
    return row?.version ?? 0
  }

  async changedSince(version: number, limit = 500): Promise<Review[]> {
    const now = this.#now().getTime()
    const found = await this.#db.query<ReviewRow>('reading changed reviews', `SELECT ${reviewColumns} FROM reviews WHERE version > $1 ORDER BY version, id LIMIT $2`, [
      version,
      Math.max(1, Math.min(limit, 1_000)),
    ])
    return found.map((row) => reviewFromRow(row, now))
  }
}

async function bump(c: Queryable): Promise<number> {
  return (await rows<{ version: number }>(c, 'UPDATE review_version SET version = version + 1 WHERE id = 1 RETURNING version'))[0]?.version ?? 0
}
