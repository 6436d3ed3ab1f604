import type { VerifyReport } from '../../audit/chain-verifier.js'
import type { AuditCompletion, AuditOpening, AuditRecord } from '../../audit/record.js'
import { interruptedCompletion } from '../../audit/record-builder.js'
import { idsOf, planAuditBatch, type AuditBatchPlan, type AuditOp, type ExistingRecord } from '../audit-batch.js'
import { StorageError } from '../errors.js'
import { GroupCommitter, type OpResult } from '../group-commit.js'
import type { AuditListFilter, AuditListQuery, AuditPage, AuditReceipt, AuditStore, AuditStoreStats, PruneResult, VerifyOptions } from '../ports.js'
import { findPruneCut } from '../shared.js'
import { WriterLease, type WriterOptions } from '../writer-lease.js'
import { getRecord, iterateRecords, latestCheckpoint, listRecords, readHead, verifyChain } from './audit-queries.js'
import { rows, type PgDb, type Queryable } from './db.js'

/**
 * The PostgreSQL audit store. Each group-commit batch is one transaction that first locks the
 * single chain-head row (`SELECT … FOR UPDATE`): replicas append to the chain one transaction at a
 * time, and positions are assigned under that lock, so the chain stays linear across replicas. The
 * batch's links, index rows and the new head are written with a handful of multi-row statements.
 */
export class PostgresAuditStore implements AuditStore {
  readonly #db: PgDb
  readonly #committer: GroupCommitter<AuditOp, AuditReceipt>
  readonly #lease: WriterLease
  readonly #now: () => Date

  constructor(db: PgDb, options: WriterOptions) {
    this.#db = db
    this.#now = options.now
    this.#lease = new WriterLease(options, (at) => this.#db.tx('renewing the writer lease', (c) => this.#renew(c, at)))
    this.#committer = new GroupCommitter((ops) => this.#applyBatch(ops), { delayMs: options.delayMs, maxBatch: options.maxBatch })
  }

  begin(opening: AuditOpening): Promise<AuditReceipt> {
    return this.#committer.submit({ kind: 'begin', opening })
  }

  complete(id: string, completion: AuditCompletion): Promise<AuditReceipt> {
    return this.#committer.submit({ kind: 'complete', id, completion })
  }

  async #applyBatch(ops: readonly AuditOp[]): Promise<Array<OpResult<AuditReceipt>>> {
    const at = this.#now().getTime()
    const renew = this.#lease.due(at)
    const results = await this.#db.tx('committing audit records', async (c) => {
      const planned = await this.#writeOps(c, ops, at)
      if (renew) await this.#renew(c, at)
      return planned
    })
    if (renew) this.#lease.renewed(at)
    this.#lease.track(ops, results)
    return results
  }

  /** Inside a transaction: lock the head, plan the batch, write links, index rows and the head. */
  async #writeOps(c: Queryable, ops: readonly AuditOp[], at: number): Promise<Array<OpResult<AuditReceipt>>> {
    const head = await readHead(c, true)
    const found = await rows<{ id: string; outcome: string; seq_open: number }>(c, 'SELECT id, outcome, seq_open FROM audit_records WHERE id = ANY($1::text[])', [idsOf(ops)])
    const existing = new Map<string, ExistingRecord>(found.map((r) => [r.id, { outcome: r.outcome, seqOpen: r.seq_open }]))
    const plan = planAuditBatch(head, ops, existing, at)
    await this.#writePlan(c, plan)
    return plan.results
  }

  async #writePlan(c: Queryable, plan: AuditBatchPlan): Promise<void> {
    const { links, inserts, closes } = plan
    if (links.length === 0) return
    await c.query(
      `INSERT INTO audit_chain (seq, kind, record_id, at, body, prev_hash, hash)
       SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[])`,
      [links.map((l) => l.seq), links.map((l) => l.kind), links.map((l) => l.recordId), links.map((l) => l.at), links.map((l) => l.body), links.map((l) => l.prevHash), links.map((l) => l.hash)],
    )
    if (inserts.length > 0) {
      // skills travel as JSON text: unnest cannot take an array of arrays of different lengths.
      await c.query(
        `INSERT INTO audit_records (id, started_at, ended_at, principal, issuer, rule, decision, outcome, skills, writer, seq_open, seq_close)
         SELECT u.id, u.started_at, u.ended_at, u.principal, u.issuer, u.rule, u.decision, u.outcome,
                ARRAY(SELECT jsonb_array_elements_text(u.skills::jsonb)), $10, u.seq_open, u.seq_close
         FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $11::int8[], $12::int8[])
           AS u(id, started_at, ended_at, principal, issuer, rule, decision, outcome, skills, seq_open, seq_close)`,
        [
          inserts.map((r) => r.id),
          inserts.map((r) => r.startedAt),
          inserts.map((r) => r.endedAt),
          inserts.map((r) => r.principal),
          inserts.map((r) => r.issuer),
          inserts.map((r) => r.rule),
          inserts.map((r) => r.decision),
          inserts.map((r) => r.outcome),
          inserts.map((r) => JSON.stringify(r.skills)),
          this.#lease.writerId,
          inserts.map((r) => r.seqOpen),
          inserts.map((r) => r.seqClose),
        ],
      )
    }
    if (closes.length > 0) {
      await c.query(
        `UPDATE audit_records r SET outcome = u.outcome, seq_close = u.seq_close, ended_at = u.ended_at
         FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[]) AS u(id, outcome, seq_close, ended_at)
         WHERE r.id = u.id AND r.outcome = 'open'`,
        [closes.map((u) => u.id), closes.map((u) => u.outcome), closes.map((u) => u.seqClose), closes.map((u) => u.endedAt)],
      )
    }
    await c.query('UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1', [plan.head.seq, plan.head.hash])
  }

  async #renew(c: Queryable, at: number): Promise<void> {
    await c.query('INSERT INTO audit_writers (id, heartbeat_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at', [this.#lease.writerId, at])
  }

  async markInterrupted(olderThan?: Date): Promise<number> {
    let total = 0
    for (;;) {
      const at = this.#now().getTime()
      const marked = await this.#db.tx('marking interrupted audit records', async (c) => {
        // Lock the head first: a live writer's completion and this check cannot interleave.
        await readHead(c, true)
        const candidates = await rows<{ id: string; started_at: number }>(
          c,
          `SELECT r.id, r.started_at FROM audit_records r
           WHERE r.outcome = 'open' AND r.writer <> $1 AND r.started_at < $2
             AND NOT EXISTS (SELECT 1 FROM audit_writers w WHERE w.id = r.writer AND w.heartbeat_at >= $3)
           ORDER BY r.seq_open LIMIT 500`,
          [this.#lease.writerId, olderThan?.getTime() ?? Number.MAX_SAFE_INTEGER, at - this.#lease.leaseMs],
        )
        const ops = candidates.map((r): AuditOp => ({ kind: 'complete', id: r.id, completion: interruptedCompletion(new Date(r.started_at).toISOString(), new Date(at)) }))
        const results = ops.length === 0 ? [] : await this.#writeOps(c, ops, at)
        return { count: candidates.length, ok: results.filter((r) => r.ok).length }
      })
      total += marked.ok
      if (marked.count < 500) return total
    }
  }

  get(id: string): Promise<AuditRecord | undefined> {
    return getRecord(this.#db, id)
  }

  list(query: AuditListQuery): Promise<AuditPage> {
    return listRecords(this.#db, query)
  }

  iterate(filter: AuditListFilter = {}): AsyncIterable<AuditRecord> {
    return iterateRecords(this.#db, filter)
  }

  verify(options?: VerifyOptions): Promise<VerifyReport> {
    return verifyChain(this.#db, options)
  }

  async prune(before: Date): Promise<PruneResult> {
    if (!Number.isFinite(before.getTime())) throw new StorageError('invalid', 'prune: before is not a valid time')
    return this.#db.tx('pruning audit records', async (c) => {
      const head = await readHead(c, true)
      const latest = await latestCheckpoint(c)
      const min = async (sql: string, params: unknown[]) => (await rows<{ s: number | null }>(c, sql, params))[0]?.s ?? null
      const cut = await findPruneCut(
        head.seq,
        () => min(`SELECT MIN(seq_open) AS s FROM audit_records WHERE outcome = 'open' OR ended_at >= $1`, [before.getTime()]),
        (at) => min('SELECT MIN(seq_open) AS s FROM audit_records WHERE seq_open <= $1 AND seq_close > $1', [at]),
      )
      if (cut <= (latest?.seq ?? 0)) return { removed: 0, checkpoint: latest }
      const last = (await rows<{ hash: string }>(c, 'SELECT hash FROM audit_chain WHERE seq = $1', [cut]))[0]
      if (last === undefined) throw new StorageError('conflict', `audit link ${cut} is missing; run audit verify before pruning`)
      const removed = (await c.query('DELETE FROM audit_records WHERE seq_open <= $1', [cut])).rowCount ?? 0
      await c.query('DELETE FROM audit_chain WHERE seq <= $1', [cut])
      await c.query('INSERT INTO audit_checkpoints (seq, hash, created_at, before_at, removed) VALUES ($1, $2, $3, $4, $5)', [cut, last.hash, this.#now().getTime(), before.getTime(), removed])
      return { removed, checkpoint: { seq: cut, hash: last.hash } }
    })
  }

  stats(): AuditStoreStats {
    return { commits: this.#committer.commits, writes: this.#committer.writes, largestBatch: this.#committer.largestBatch }
  }

  async close(): Promise<void> {
    await this.#committer.close()
    this.#lease.stop()
    if (!this.#db.closed) {
      // Best effort: an unreleased lease only delays markInterrupted for this writer's records.
      await this.#db.query('releasing the writer lease', 'DELETE FROM audit_writers WHERE id = $1', [this.#lease.writerId]).catch(() => undefined)
    }
  }
}
