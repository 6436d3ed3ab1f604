import { idsOf, planAuditBatch, type AuditOp, type AuditReceipt, type OpResult } from '../audit/batch-plan.js'
import type { VerifyReport } from '../audit/chain-verifier.js'
import { markInterrupted } from '../audit/interruption.js'
import { verifyLedger } from '../audit/ledger-verifier.js'
import type { AuditCompletion, AuditOpening, AuditRecord } from '../audit/record.js'
import type { StoredHead } from '../audit/heads/head.js'
import type { ChainHead } from '../audit/chain.js'
import { readHead, renewLease, SqlAuditLedger } from './audit-ledger.js'
import { insertHead, maxHeadsPage, selectHeads, wholePositions } from './audit-heads.js'
import { getRecord, iterateRecords, listRecords } from './audit-queries.js'
import { pruneSteps } from './audit-retention.js'
import { StorageError } from './errors.js'
import { GroupCommitter } from './group-commit.js'
import type { AuditListFilter, AuditListQuery, AuditPage, AuditStore, AuditStoreStats, PruneOptions, PruneResult, VerifyOptions } from './ports.js'
import type { BatchPart, BatchWrites, TakenWrites } from './batch-writes.js'
import type { Body, SqlDb } from './sql/db.js'
import { all, get, run, type Step } from './sql/step.js'
import { WriterLease, type WriterOptions } from './writer-lease.js'

/** What the group commit carries: audit halves, operations of other stores, and a bare flush of the joined parts. */
type BatchOp = AuditOp | { readonly kind: 'step'; readonly body: Body<unknown> } | { readonly kind: 'flush' }

const isAuditOp = (op: BatchOp): op is AuditOp => op.kind === 'begin' || op.kind === 'complete'

/**
 * The audit store: halves go through a group committer, and each batch is one ledger append (one
 * locked transaction, synchronous in SQLite). The same commit carries the writes of the other
 * stores that ride it (`BatchWrites`: counters, owners, slots), so a request's writes share one
 * fsync with its audit halves. The chain rules — planning, verification, marking abandoned records
 * interrupted — are the audit's own (src/audit/); this class wires them to the ledger and keeps the
 * writer lease in step with this writer's open records.
 */
export class SqlAuditStore implements AuditStore {
  readonly #db: SqlDb
  readonly #ledger: SqlAuditLedger
  readonly #committer: GroupCommitter<BatchOp, unknown>
  readonly #lease: WriterLease
  readonly #options: WriterOptions
  readonly #parts: BatchPart[] = []
  #commits = 0
  #writes = 0
  #largestBatch = 0

  constructor(db: SqlDb, options: WriterOptions) {
    this.#db = db
    this.#options = options
    this.#lease = new WriterLease(options, (at) => db.write('renewing the writer lease', () => renewLease(options.writerId, at)))
    this.#ledger = new SqlAuditLedger(db, this.#lease)
    this.#committer = new GroupCommitter((ops) => this.#applyBatch(ops), { delayMs: options.delayMs, maxBatch: options.maxBatch })
  }

  begin(opening: AuditOpening): Promise<AuditReceipt> {
    return this.#committer.submit({ kind: 'begin', opening }) as Promise<AuditReceipt>
  }

  complete(id: string, completion: AuditCompletion): Promise<AuditReceipt> {
    return this.#committer.submit({ kind: 'complete', id, completion }) as Promise<AuditReceipt>
  }

  /** The shared commit, for the stores whose writes ride it. */
  readonly batch: BatchWrites = {
    submit: <T>(_what: string, body: Body<T>): Promise<T> => this.#committer.submit({ kind: 'step', body }) as Promise<T>,
    join: (part) => void this.#parts.push(part),
    flush: async () => {
      if (this.#parts.some((p) => p.pending)) await this.#committer.submit({ kind: 'flush' })
    },
  }

  /**
   * One transaction for `ops` and what the joined parts have pending. When it fails and parts rode
   * it, the operations are tried again at once without them, so a part's bad write never fails an
   * audit half; the part is told whether its writes failed on their own (`invalid`) or with the store.
   */
  async #applyBatch(ops: readonly BatchOp[], withParts = true): Promise<Array<OpResult<unknown>>> {
    const at = this.#options.now().getTime()
    const audit = ops.filter(isAuditOp)
    const append =
      audit.length === 0
        ? undefined
        : this.#ledger.appendStep(at, { kind: 'records', ids: idsOf(audit) }, (view) => {
            const plan = planAuditBatch(view.head, audit, view.records, at)
            return { write: plan, result: plan.results }
          })
    const taken = withParts ? this.#parts.map((p) => p.take()).filter((t): t is TakenWrites => t !== undefined) : []
    let results: Array<OpResult<unknown>>
    let auditResults: Array<OpResult<AuditReceipt>> = []
    try {
      results = await this.#db.write(append ? 'committing audit records' : 'committing a batch', function* (d): Step<Array<OpResult<unknown>>> {
        auditResults = append ? yield* append.body(d) : []
        const out: Array<OpResult<unknown>> = []
        let next = 0
        for (const op of ops) {
          if (isAuditOp(op)) out.push(auditResults[next++] as OpResult<AuditReceipt>)
          else out.push({ ok: true, value: op.kind === 'step' ? yield* op.body(d) : undefined })
        }
        for (const part of taken) yield* part.body(d)
        return out
      })
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error))
      if (taken.length === 0 || ops.every((op) => op.kind === 'flush')) {
        for (const part of taken) part.settled(err)
        throw err
      }
      let retried: Array<OpResult<unknown>>
      try {
        retried = await this.#applyBatch(ops, false)
      } catch (retryError) {
        // Failed without the parts too: the store itself is the problem.
        for (const part of taken) part.settled(err)
        throw retryError
      }
      const own = new StorageError('invalid', `writes that rode an audit commit failed on their own: ${err.message}`, { cause: err })
      for (const part of taken) part.settled(own)
      return retried
    }
    append?.committed()
    for (const part of taken) part.settled()
    if (audit.length > 0) {
      const written = auditResults.filter((r) => r.ok).length
      this.#commits += 1
      this.#writes += written
      this.#largestBatch = Math.max(this.#largestBatch, written)
      this.#lease.track(audit, auditResults)
    }
    return results
  }

  async markInterrupted(olderThan?: Date): Promise<number> {
    return markInterrupted(this.#ledger, this.#options.now, olderThan)
  }

  async get(id: string): Promise<AuditRecord | undefined> {
    return getRecord(this.#db, id)
  }

  async list(query: AuditListQuery): Promise<AuditPage> {
    return listRecords(this.#db, query)
  }

  iterate(filter: AuditListFilter = {}): AsyncIterable<AuditRecord> {
    return iterateRecords(this.#db, filter)
  }

  async verify(options?: VerifyOptions): Promise<VerifyReport> {
    return verifyLedger(this.#ledger, options)
  }

  async prune(before: Date, options: PruneOptions = {}): Promise<PruneResult> {
    if (!Number.isFinite(before.getTime())) throw new StorageError('invalid', 'prune: before is not a valid time')
    const createdAt = this.#options.now().getTime()
    return this.#db.write('pruning audit records', (d) => pruneSteps(d, before.getTime(), createdAt, options.signCheckpoint))
  }

  get writerId(): string {
    return this.#options.writerId
  }

  async chainHead(): Promise<ChainHead> {
    return this.#db.single('reading the audit chain head', 'read', (d) => readHead(d, false))
  }

  async saveHead(head: StoredHead): Promise<void> {
    await this.#db.single('saving a signed audit head', 'write', () => insertHead(head))
  }

  /** The first RFC 3161 token obtained after the head was stored stays. */
  async saveHeadTimestamp(jws: string, timestamp: string): Promise<void> {
    await this.#db.single('saving an audit head timestamp', 'write', () =>
      run('UPDATE audit_heads SET timestamp = ? WHERE jws = ? AND timestamp IS NULL', [timestamp, jws]),
    )
  }

  /** By position then time. */
  async listHeads(after?: number, limit = maxHeadsPage): Promise<StoredHead[]> {
    if (after !== undefined && !(Number.isSafeInteger(after) && after >= 0)) throw new StorageError('invalid', 'after must be a non-negative integer')
    const rows = await this.#db.single('listing signed audit heads', 'read', () =>
      all<StoredHead>(`${selectHeads} WHERE position > ? ORDER BY position, time LIMIT ?`, [after ?? -1, limit + 1]),
    )
    return wholePositions(rows, limit)
  }

  async latestHead(): Promise<StoredHead | undefined> {
    return this.#db.single('reading the latest signed audit head', 'read', () => get<StoredHead>(`${selectHeads} ORDER BY position DESC, time DESC LIMIT 1`))
  }

  async linkHash(seq: number): Promise<string | undefined> {
    const row = await this.#db.single('reading an audit link hash', 'read', () => get<{ hash: string }>('SELECT hash FROM audit_chain WHERE seq = ?', [seq]))
    return row?.hash
  }

  stats(): AuditStoreStats {
    return { commits: this.#commits, writes: this.#writes, largestBatch: this.#largestBatch }
  }

  async close(): Promise<void> {
    // Nothing pending is lost at shutdown: counters still in memory ride one last commit.
    await this.batch.flush().catch((error: unknown) => this.#options.onError('batch-flush', error instanceof Error ? error : new Error(String(error))))
    await this.#committer.close()
    this.#lease.stop()
    if (this.#db.closed) return
    try {
      await this.#db.single('releasing the writer lease', 'write', () => run('DELETE FROM audit_writers WHERE id = ?', [this.#options.writerId]))
    } catch (error) {
      // An unreleased lease only delays markInterrupted for this writer's records until it expires.
      this.#options.onError('writer-lease-release', error instanceof Error ? error : new Error(String(error)))
    }
  }
}
