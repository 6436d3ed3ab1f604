import { appendBatch, type AuditOp, type AuditReceipt, type OpResult } from '../audit/batch-plan.js'
import type { VerifyReport } from '../audit/chain-verifier.js'
import { markInterrupted } from '../audit/interruption.js'
import { verifyLedger } from '../audit/ledger-verifier.js'
import type { AuditCompletion, AuditOpening, AuditRecord } from '../audit/record.js'
import type { StoredHead } from '../audit/heads/head.js'
import type { ChainHead } from '../audit/chain.js'
import { readHead, renewLease, SqlAuditLedger } from './audit-ledger.js'
import { latestHead, linkHashAt, listHeads, saveHead, saveHeadTimestamp } from './audit-heads.js'
import { getRecord, iterateRecords, listRecords } from './audit-queries.js'
import { pruneSteps } from './audit-retention.js'
import { StorageError } from './errors.js'
import { GroupCommitter } from './group-commit.js'
import type { AuditListFilter, AuditListQuery, AuditPage, AuditStore, AuditStoreStats, PruneOptions, PruneResult, VerifyOptions } from './ports.js'
import type { SqlDb } from './sql/db.js'
import { run } from './sql/step.js'
import { WriterLease, type WriterOptions } from './writer-lease.js'

/**
 * The audit store: halves go through a group committer, and each batch is one ledger append (one
 * locked transaction, synchronous in SQLite). The chain rules — planning, verification, marking
 * abandoned records interrupted — are the audit's own (src/audit/); this class wires them to the
 * ledger and keeps the writer lease in step with this writer's open records.
 */
export class SqlAuditStore implements AuditStore {
  readonly #db: SqlDb
  readonly #ledger: SqlAuditLedger
  readonly #committer: GroupCommitter<AuditOp, AuditReceipt>
  readonly #lease: WriterLease
  readonly #options: WriterOptions

  constructor(db: SqlDb, options: WriterOptions) {
    this.#db = db
    this.#options = options
    this.#lease = new WriterLease(options, (at) => db.write('renewing the writer lease', () => renewLease(options.writerId, at)))
    this.#ledger = new SqlAuditLedger(db, this.#lease)
    this.#committer = new GroupCommitter((ops) => this.#applyBatch(ops), { delayMs: options.delayMs, maxBatch: options.maxBatch })
  }

  begin(opening: AuditOpening): Promise<AuditReceipt> {
    return this.#committer.submit({ kind: 'begin', opening })
  }

  complete(id: string, completion: AuditCompletion): Promise<AuditReceipt> {
    return this.#committer.submit({ kind: 'complete', id, completion })
  }

  async #applyBatch(ops: readonly AuditOp[]): Promise<Array<OpResult<AuditReceipt>>> {
    const results = await appendBatch(this.#ledger, ops, this.#options.now().getTime())
    this.#lease.track(ops, results)
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
    return saveHead(this.#db, head)
  }

  async saveHeadTimestamp(jws: string, timestamp: string): Promise<void> {
    return saveHeadTimestamp(this.#db, jws, timestamp)
  }

  async listHeads(after?: number): Promise<StoredHead[]> {
    return listHeads(this.#db, after)
  }

  async latestHead(): Promise<StoredHead | undefined> {
    return latestHead(this.#db)
  }

  async linkHash(seq: number): Promise<string | undefined> {
    return linkHashAt(this.#db, seq)
  }

  stats(): AuditStoreStats {
    return { commits: this.#committer.commits, writes: this.#committer.writes, largestBatch: this.#committer.largestBatch }
  }

  async close(): Promise<void> {
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
