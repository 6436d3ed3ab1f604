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
import type { SqliteConnection } from './connection.js'

/**
 * Reviews in SQLite. Every change runs in one `BEGIN IMMEDIATE` transaction (the file's write lock
 * serialises processes) and stamps the changed rows with a new value of the `review_version`
 * counter, so `version()` is a one-row read and `changedSince` an indexed range scan.
 */
export class SqliteReviewStore implements ReviewStore {
  readonly #conn: SqliteConnection
  readonly #now: () => Date

  constructor(conn: SqliteConnection, now: () => Date) {
    this.#conn = conn
    this.#now = now
  }

  async create(input: NewReview): Promise<ReviewCreateResult> {
    checkNewReview(input)
    const now = this.#now().getTime()
    return this.#conn.write('opening a review', () => {
      const key = [input.principal, input.rule, input.fingerprint]
      // A pending review past its expiry must not absorb new requests: close it first.
      const stale = this.#conn.stmt(`SELECT 1 FROM reviews WHERE principal = ? AND rule = ? AND fingerprint = ? AND state = 'pending' AND expires_at <= ?`).get(...key, now)
      if (stale !== undefined) {
        this.#conn.stmt(`UPDATE reviews SET state = 'expired', version = ? WHERE principal = ? AND rule = ? AND fingerprint = ? AND state = 'pending'`).run(this.#bump(), ...key)
      }
      const existing = this.#conn.stmt(`SELECT ${reviewColumns} FROM reviews WHERE principal = ? AND rule = ? AND fingerprint = ? AND state = 'pending'`).get(...key) as ReviewRow | undefined
      if (existing !== undefined) return { review: reviewFromRow(existing, now), created: false }
      const row = this.#conn
        .stmt(
          `INSERT INTO reviews (id, principal, rule, fingerprint, state, summary, requester, created_at, expires_at, version)
           VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?) RETURNING ${reviewColumns}`,
        )
        .get(newReviewId(now), ...key, JSON.stringify(input.summary), JSON.stringify(input.requester), now, input.expiresAt.getTime(), this.#bump()) as ReviewRow
      return { review: reviewFromRow(row, now), created: true }
    })
  }

  async get(id: string): Promise<Review | undefined> {
    if (!isReviewId(id)) return undefined
    const now = this.#now().getTime()
    const row = this.#conn.read('reading a review', () => this.#conn.stmt(`SELECT ${reviewColumns} FROM reviews WHERE id = ?`).get(id)) as ReviewRow | undefined
    return row === undefined ? undefined : reviewFromRow(row, now)
  }

  async list(query: ReviewListQuery): Promise<ReviewPage> {
    checkReviewQuery(query)
    const now = this.#now().getTime()
    const { where, params } = reviewFilter(query, now, () => '?')
    const rows = this.#conn.read('listing reviews', () =>
      this.#conn.stmt(`SELECT ${reviewColumns} FROM reviews ${where} ORDER BY id DESC LIMIT ?`).all(...params, query.limit + 1),
    ) as ReviewRow[]
    const page = rows.slice(0, query.limit).map((row) => reviewFromRow(row, now))
    return { reviews: page, nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null }
  }

  async decide(id: string, input: ReviewDecisionInput): Promise<ReviewDecisionResult> {
    checkDecision(input)
    const now = this.#now().getTime()
    return this.#conn.write('deciding a review', () => {
      const row = this.#conn.stmt(`SELECT ${reviewColumns} FROM reviews WHERE id = ?`).get(id) as ReviewRow | undefined
      if (row === undefined || row.state !== 'pending' || row.expires_at <= now) throw decideRefusal(id, row, now)
      const review = reviewFromRow(row, now)
      if (isSelfApproval(review, input.approver)) throw new StorageError('forbidden', `review ${id}: the requester cannot approve its own request`)
      let grant: GrantRow | null = null
      if (input.decision === 'approved' && input.grant !== undefined) {
        grant = this.#conn
          .stmt(`INSERT INTO grants (id, principal, rule, review_id, approver, created_at, expires_at, uses_left) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${grantColumns}`)
          .get(newGrantId(now), row.principal, row.rule, id, input.approver.id, now, input.grant.expiresAt.getTime(), input.grant.uses) as GrantRow
      }
      const updated = this.#conn
        .stmt(`UPDATE reviews SET state = ?, decided_at = ?, approver = ?, reason = ?, grant_id = ?, version = ? WHERE id = ? RETURNING ${reviewColumns}`)
        .get(input.decision, now, input.approver.id, trimReason(input.reason), grant?.id ?? null, this.#bump(), id) as ReviewRow
      return { review: reviewFromRow(updated, now), grant: grant === null ? null : grantFromRow(grant) }
    })
  }

  async expire(at?: Date): Promise<Review[]> {
    if (at !== undefined) checkTime(at, 'now')
    const now = (at ?? this.#now()).getTime()
    const due = this.#conn.read('reading due reviews', () => this.#conn.stmt(`SELECT 1 FROM reviews WHERE state = 'pending' AND expires_at <= ? LIMIT 1`).get(now))
    // Most sweeps find nothing: do not take the write lock for them.
    if (due === undefined) return []
    const rows = this.#conn.write('expiring reviews', () =>
      this.#conn.stmt(`UPDATE reviews SET state = 'expired', version = ? WHERE state = 'pending' AND expires_at <= ? RETURNING ${reviewColumns}`).all(this.#bump(), now),
    ) as ReviewRow[]
    return rows.map((row) => reviewFromRow(row, now)).sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  async version(): Promise<number> {
    return this.#conn.read('reading the review version', () => (this.#conn.stmt('SELECT version FROM review_version WHERE id = 1').get() as { version: number }).version)
  }

  async changedSince(version: number, limit = 500): Promise<Review[]> {
    const now = this.#now().getTime()
    const rows = this.#conn.read('reading changed reviews', () =>
      this.#conn.stmt(`SELECT ${reviewColumns} FROM reviews WHERE version > ? ORDER BY version, id LIMIT ?`).all(version, Math.max(1, Math.min(limit, 1_000))),
    ) as ReviewRow[]
    return rows.map((row) => reviewFromRow(row, now))
  }

  /** Inside a write transaction. */
  #bump(): number {
    return (this.#conn.stmt('UPDATE review_version SET version = version + 1 WHERE id = 1 RETURNING version').get() as { version: number }).version
  }
}
