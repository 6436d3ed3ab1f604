import type { VerifyReport } from '../../audit/chain-verifier.js'
import type { AuditCompletion, AuditOpening, AuditRecord } from '../../audit/record.js'
import { interruptedCompletion } from '../../audit/record-builder.js'
import { idsOf, planAuditBatch, type AuditOp, type ExistingRecord } from '../audit-batch.js'
import { StorageError } from '../errors.js'
import { GroupCommitter, type OpResult } from '../group-commit.js'
import type { AuditListFilter, AuditListQuery, AuditPage, AuditReceipt, AuditStore, AuditStoreStats, PruneResult, VerifyOptions } from '../ports.js'
import { WriterLease, type WriterOptions } from '../writer-lease.js'
import { getRecord, iterateRecords, latestCheckpoint, listRecords, readHead, verifyChain } from './audit-queries.js'
import type { SqliteConnection } from './connection.js'

/**
 * The SQLite audit store. Writes go through a group committer: each batch is one `BEGIN IMMEDIATE`
 * transaction that reads the chain head, appends the batch's links, updates the index and moves the
 * head. SQLite's single write lock serialises writers across connections and processes sharing the
 * file, so the chain stays linear with any number of workers.
 */
export class SqliteAuditStore implements AuditStore {
  readonly #conn: SqliteConnection
  readonly #committer: GroupCommitter<AuditOp, AuditReceipt>
  readonly #lease: WriterLease
  readonly #now: () => Date

  constructor(conn: SqliteConnection, options: WriterOptions) {
    this.#conn = conn
    this.#now = options.now
    this.#lease = new WriterLease(options, (at) => this.#conn.write('renewing the writer lease', () => this.#renew(at)))
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
    const results = this.#conn.write('committing audit records', () => {
      if (renew) this.#renew(at)
      return this.#writeOps(ops, at, this.#lease.writerId)
    })
    if (renew) this.#lease.renewed(at)
    this.#lease.track(ops, results)
    return results
  }

  /** Inside a write transaction: plan the batch against the current head and write it. */
  #writeOps(ops: readonly AuditOp[], at: number, writer: string): Array<OpResult<AuditReceipt>> {
    const c = this.#conn
    const existing = new Map<string, ExistingRecord>()
    for (const id of idsOf(ops)) {
      const row = c.stmt('SELECT outcome, seq_open FROM audit_records WHERE id = ?').get(id) as { outcome: string; seq_open: number } | undefined
      if (row) existing.set(id, { outcome: row.outcome, seqOpen: row.seq_open })
    }
    const plan = planAuditBatch(readHead(c), ops, existing, at)
    const insertLink = c.stmt('INSERT INTO audit_chain (seq, kind, record_id, at, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
    for (const l of plan.links) insertLink.run(l.seq, l.kind, l.recordId, l.at, l.body, l.prevHash, l.hash)
    const insertRecord = c.stmt(
      `INSERT INTO audit_records (id, started_at, ended_at, principal, issuer, rule, decision, outcome, skills, writer, seq_open, seq_close)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    for (const r of plan.inserts) {
      insertRecord.run(r.id, r.startedAt, r.endedAt, r.principal, r.issuer, r.rule, r.decision, r.outcome, JSON.stringify(r.skills), writer, r.seqOpen, r.seqClose)
    }
    const close = c.stmt(`UPDATE audit_records SET outcome = ?, seq_close = ?, ended_at = ? WHERE id = ? AND outcome = 'open'`)
    for (const u of plan.closes) close.run(u.outcome, u.seqClose, u.endedAt, u.id)
    if (plan.links.length > 0) c.stmt('UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1').run(plan.head.seq, plan.head.hash)
    return plan.results
  }

  #renew(at: number): void {
    this.#conn
      .stmt('INSERT INTO audit_writers (id, heartbeat_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at')
      .run(this.#lease.writerId, at)
  }

  async markInterrupted(olderThan?: Date): Promise<number> {
    let total = 0
    for (;;) {
      const at = this.#now().getTime()
      const marked = this.#conn.write('marking interrupted audit records', () => {
        const candidates = this.#conn
          .stmt(
            `SELECT r.id, r.started_at FROM audit_records r
             WHERE r.outcome = 'open' AND r.writer <> ? AND r.started_at < ?
               AND NOT EXISTS (SELECT 1 FROM audit_writers w WHERE w.id = r.writer AND w.heartbeat_at >= ?)
             ORDER BY r.seq_open LIMIT 500`,
          )
          .all(this.#lease.writerId, olderThan?.getTime() ?? Number.MAX_SAFE_INTEGER, at - this.#lease.leaseMs) as { id: string; started_at: number }[]
        const ops = candidates.map((r): AuditOp => ({ kind: 'complete', id: r.id, completion: interruptedCompletion(new Date(r.started_at).toISOString(), new Date(at)) }))
        return { count: candidates.length, ok: this.#writeOps(ops, at, this.#lease.writerId).filter((r) => r.ok).length }
      })
      total += marked.ok
      if (marked.count < 500) return total
    }
  }

  async get(id: string): Promise<AuditRecord | undefined> {
    return getRecord(this.#conn, id)
  }

  async list(query: AuditListQuery): Promise<AuditPage> {
    return listRecords(this.#conn, query)
  }

  iterate(filter: AuditListFilter = {}): AsyncIterable<AuditRecord> {
    return iterateRecords(this.#conn, filter)
  }

  verify(options?: VerifyOptions): Promise<VerifyReport> {
    return verifyChain(this.#conn, options)
  }

  async prune(before: Date): Promise<PruneResult> {
    if (!Number.isFinite(before.getTime())) throw new StorageError('invalid', 'prune: before is not a valid time')
    const c = this.#conn
    return c.write('pruning audit records', () => {
      const latest = latestCheckpoint(c)
      // better-sqlite3 is synchronous, so the cut is computed inline (same rule as shared findPruneCut).
      const cut = pruneCutSync(c, before.getTime())
      if (cut <= (latest?.seq ?? 0)) return { removed: 0, checkpoint: latest }
      const last = c.stmt('SELECT hash FROM audit_chain WHERE seq = ?').get(cut) as { hash: string } | undefined
      if (last === undefined) throw new StorageError('conflict', `audit link ${cut} is missing; run audit verify before pruning`)
      const removed = c.stmt('DELETE FROM audit_records WHERE seq_open <= ?').run(cut).changes
      c.stmt('DELETE FROM audit_chain WHERE seq <= ?').run(cut)
      c.stmt('INSERT INTO audit_checkpoints (seq, hash, created_at, before_at, removed) VALUES (?, ?, ?, ?, ?)').run(cut, last.hash, this.#now().getTime(), before.getTime(), removed)
      return { removed, checkpoint: { seq: cut, hash: last.hash } }
    })
  }

  stats(): AuditStoreStats {
    return { commits: this.#committer.commits, writes: this.#committer.writes, largestBatch: this.#committer.largestBatch }
  }

  async close(): Promise<void> {
    await this.#committer.close()
    this.#lease.stop()
    if (this.#conn.open) {
      try {
        this.#conn.write('releasing the writer lease', () => this.#conn.stmt('DELETE FROM audit_writers WHERE id = ?').run(this.#lease.writerId))
      } catch {
        // Best effort: an unreleased lease only delays markInterrupted for this writer's records.
      }
    }
  }
}

function pruneCutSync(c: SqliteConnection, before: number): number {
  const kept = (c.stmt(`SELECT MIN(seq_open) AS s FROM audit_records WHERE outcome = 'open' OR ended_at >= ?`).get(before) as { s: number | null }).s
  let cut = kept === null ? readHead(c).seq : kept - 1
  for (;;) {
    const first = cut > 0 ? (c.stmt('SELECT MIN(seq_open) AS s FROM audit_records WHERE seq_open <= ? AND seq_close > ?').get(cut, cut) as { s: number | null }).s : null
    if (first === null) return cut
    cut = first - 1
  }
}
