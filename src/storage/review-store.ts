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
  approverName,
  type GrantRow,
  type ReviewRow,
} from './approval-rows.js'
import { StorageError } from './errors.js'
import type {
  NewReview,
  Review,
  ReviewCreateResult,
  ReviewDecisionInput,
  ReviewDecisionResult,
  ReviewListQuery,
  ReviewMessage,
  ReviewPage,
  ReviewStore,
} from './ports-approvals.js'
import { reviewFilter } from './review-filter.js'
import { checkTime } from './shared.js'
import type { Dialect, SqlDb } from './sql/db.js'
import { all, get, run, type Step } from './sql/step.js'

/**
 * Reviews. Every writing transaction first takes the next value of the `review_version` row. In
 * PostgreSQL its row lock is held until commit (SQLite's write lock does the same for the whole
 * file), which (1) hands out versions in commit order, so a replica polling `changedSince(v)` never
 * skips a change that commits late, (2) serialises writers on one lock taken first, so they cannot
 * deadlock on review rows, and (3) makes concurrent creators of the same review meet one after the
 * other.
 */
export class SqlReviewStore implements ReviewStore {
  constructor(private readonly db: SqlDb, private readonly now: () => Date) {
    const listen = db.listen
    if (listen) this.subscribe = (onChange) => listen(REVIEWS_TOPIC, onChange)
  }

  async saveMessage(reviewId: string, target: string, at: ReviewMessage): Promise<void> {
    if (![reviewId, target, at.channel, at.ts].every((v) => typeof v === 'string' && v.length > 0 && v.length <= 256)) {
      throw new StorageError('invalid', 'a review message needs a review id, a target, a channel and a ts (1 to 256 characters each)')
    }
    await this.db.single('keeping a review message', 'write', () =>
      run('INSERT INTO review_messages (review_id, target, channel, ts) VALUES (?, ?, ?, ?) ON CONFLICT (review_id, target) DO UPDATE SET channel = excluded.channel, ts = excluded.ts', [
        reviewId,
        target,
        at.channel,
        at.ts,
      ]),
    )
  }

  async findMessage(reviewId: string, target: string): Promise<ReviewMessage | undefined> {
    return this.db.single('reading a review message', 'read', () => get<ReviewMessage>('SELECT channel, ts FROM review_messages WHERE review_id = ? AND target = ?', [reviewId, target]))
  }

  async create(input: NewReview): Promise<ReviewCreateResult> {
    checkNewReview(input)
    const now = this.now().getTime()
    return this.db.write('opening a review', function* (d): Step<ReviewCreateResult> {
      const key = [input.principal, input.rule, input.fingerprint]
      const version = yield* bump(d)
      // A pending review past its expiry must not absorb new requests: close it first.
      yield* run(`UPDATE reviews SET state = 'expired', version = ? WHERE principal = ? AND rule = ? AND fingerprint = ? AND state = 'pending' AND expires_at <= ?`, [
        version,
        ...key,
        now,
      ])
      // Creators are serialised by the version row, so a loser of the race finds the winner's
      // committed row here (READ COMMITTED: each statement sees what committed before it).
      const inserted = yield* get<ReviewRow>(
        `INSERT INTO reviews (id, principal, rule, fingerprint, state, summary, requester, created_at, expires_at, version)
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)
         ON CONFLICT (principal, rule, fingerprint) WHERE state = 'pending' DO NOTHING RETURNING ${reviewColumns}`,
        [newReviewId(now), ...key, JSON.stringify(input.summary), JSON.stringify(input.requester), now, input.expiresAt.getTime(), version],
      )
      if (inserted !== undefined) return { review: reviewFromRow(inserted, now), created: true }
      const existing = yield* get<ReviewRow>(`SELECT ${reviewColumns} FROM reviews WHERE principal = ? AND rule = ? AND fingerprint = ? AND state = 'pending'`, key)
      if (existing === undefined) throw new StorageError('conflict', 'a concurrent review was decided while this one was opened; retry')
      return { review: reviewFromRow(existing, now), created: false }
    })
  }

  async get(id: string): Promise<Review | undefined> {
    if (!isReviewId(id)) return undefined
    const now = this.now().getTime()
    const row = await this.db.single('reading a review', 'read', () => get<ReviewRow>(`SELECT ${reviewColumns} FROM reviews WHERE id = ?`, [id]))
    return row === undefined ? undefined : reviewFromRow(row, now)
  }

  async list(query: ReviewListQuery): Promise<ReviewPage> {
    checkReviewQuery(query)
    const now = this.now().getTime()
    const { where, params } = reviewFilter(query, now)
    const found = await this.db.single('listing reviews', 'read', () =>
      all<ReviewRow>(`SELECT ${reviewColumns} FROM reviews ${where} ORDER BY id DESC LIMIT ?`, [...params, query.limit + 1]),
    )
    const page = found.slice(0, query.limit).map((row) => reviewFromRow(row, now))
    return { reviews: page, nextCursor: found.length > query.limit ? (page.at(-1)?.id ?? null) : null }
  }

  async decide(id: string, input: ReviewDecisionInput): Promise<ReviewDecisionResult> {
    checkDecision(input)
    const now = this.now().getTime()
    return this.db.write('deciding a review', function* (d): Step<ReviewDecisionResult> {
      const version = yield* bump(d)
      // Two approvers deciding at once are serialised by the version row; the second sees the first's state.
      const row = isReviewId(id) ? yield* get<ReviewRow>(`SELECT ${reviewColumns} FROM reviews WHERE id = ?`, [id]) : undefined
      if (row === undefined || row.state !== 'pending' || row.expiresAt <= now) throw decideRefusal(id, row, now)
      const review = reviewFromRow(row, now)
      if (isSelfApproval(review, input.approver)) throw new StorageError('forbidden', `review ${id}: the requester cannot approve its own request`)
      let grant: GrantRow | undefined
      if (input.decision === 'approved' && input.grant !== undefined) {
        grant = yield* get<GrantRow>(
          `INSERT INTO grants (id, principal, rule, review_id, approver, created_at, expires_at, uses_left) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${grantColumns}`,
          [newGrantId(now), row.principal, row.rule, id, input.approver.id, now, input.grant.expiresAt.getTime(), input.grant.uses],
        )
      }
      const updated = yield* get<ReviewRow>(
        `UPDATE reviews SET state = ?, decided_at = ?, approver = ?, approver_name = ?, reason = ?, grant_id = ?, version = ? WHERE id = ? RETURNING ${reviewColumns}`,
        [input.decision, now, input.approver.id, approverName(input.approver.name), trimReason(input.reason), grant?.id ?? null, version, id],
      )
      return { review: reviewFromRow(updated as ReviewRow, now), grant: grant === undefined ? null : grantFromRow(grant) }
    })
  }

  async expire(at?: Date): Promise<Review[]> {
    if (at !== undefined) checkTime(at, 'now')
    const now = (at ?? this.now()).getTime()
    // Most sweeps find nothing: do not take the write lock for them.
    const due = await this.db.single('reading due reviews', 'read', () => get(`SELECT 1 AS due FROM reviews WHERE state = 'pending' AND expires_at <= ? LIMIT 1`, [now]))
    if (due === undefined) return []
    const expired = await this.db.write('expiring reviews', function* (d) {
      const version = yield* bump(d)
      return yield* all<ReviewRow>(`UPDATE reviews SET state = 'expired', version = ? WHERE state = 'pending' AND expires_at <= ? RETURNING ${reviewColumns}`, [version, now])
    })
    return expired.map((row) => reviewFromRow(row, now)).sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  async version(): Promise<number> {
    return this.db.single('reading the review version', 'read', function* () {
      return (yield* get<{ version: number }>('SELECT version FROM review_version WHERE id = 1'))?.version ?? 0
    })
  }

  /** Set only where the store can push (PostgreSQL); see the port. */
  readonly subscribe?: (onChange: () => void) => Promise<() => Promise<void>>

  async changedSince(version: number, limit = 500): Promise<Review[]> {
    const now = this.now().getTime()
    const found = await this.db.single('reading changed reviews', 'read', () =>
      all<ReviewRow>(`SELECT ${reviewColumns} FROM reviews WHERE version > ? ORDER BY version, id LIMIT ?`, [version, Math.max(1, Math.min(limit, 1_000))]),
    )
    return found.map((row) => reviewFromRow(row, now))
  }
}

/** The topic every review change notifies, so waiting replicas look at once instead of at their next poll. */
export const REVIEWS_TOPIC = 'reviews'

/** Inside a write transaction: the next review version, with the row locked until commit. */
function* bump(d: Dialect): Step<number> {
  yield* d.notify(REVIEWS_TOPIC)
  return (yield* get<{ version: number }>('UPDATE review_version SET version = version + 1 WHERE id = 1 RETURNING version'))?.version ?? 0
}
