import type { ChainHead, ChainLink, RecordIndexRow } from '../audit/chain.js'
import type { AuditLedger, LedgerAppend, LedgerRecord, LedgerTarget, LedgerView, LinkRef, OrphanRecord } from '../audit/ledger.js'
import { indexColumns, linkColumns, type IndexRow } from './shared.js'
import type { Body, Column, Dialect, SqlDb } from './sql/db.js'
import { all, get, run, type Step } from './sql/step.js'
import type { WriterLease } from './writer-lease.js'

/**
 * The audit ledger on the shared SQL layer. An append is one write transaction that first takes
 * the chain lock — SQLite's `BEGIN IMMEDIATE` file lock, or in PostgreSQL the row lock on the single
 * chain-head row (`SELECT … FOR UPDATE`) — so workers and replicas extend the chain one transaction
 * at a time and positions are assigned under that lock. Each record row carries its writer's id;
 * the writer's lease is renewed in the same transaction when due (see writer-lease.ts).
 */
export class SqlAuditLedger implements AuditLedger {
  readonly #db: SqlDb
  readonly #lease: WriterLease

  constructor(db: SqlDb, lease: WriterLease) {
    this.#db = db
    this.#lease = lease
  }

  async append<T>(what: string, at: number, target: LedgerTarget, plan: (view: LedgerView) => { readonly write: LedgerAppend; readonly result: T }): Promise<T> {
    const { body, committed } = this.appendStep(at, target, plan)
    const result = await this.#db.write(what, body)
    committed()
    return result
  }

  /**
   * The append as a transaction body, for a caller that runs it inside a larger write transaction
   * (the shared group commit: audit halves, counters and owners in one commit). Call `committed`
   * once that transaction committed.
   */
  appendStep<T>(at: number, target: LedgerTarget, plan: (view: LedgerView) => { readonly write: LedgerAppend; readonly result: T }): { body: Body<T>; committed: () => void } {
    const lease = this.#lease
    const renew = lease.due(at)
    return {
      body: function* (d): Step<T> {
        const head = yield* readHead(d, true)
        const records = yield* readTargets(d, target, at, lease)
        const { write, result } = plan({ head, records })
        yield* writeAppend(d, write, lease.writerId)
        if (renew) yield* renewLease(lease.writerId, at)
        return result
      },
      committed: () => {
        if (renew) lease.renewed(at)
      },
    }
  }

  start(): Promise<{ head: ChainHead; checkpoint: ChainHead | null }> {
    return this.#db.read('verifying the audit chain', function* (d) {
      return { head: yield* readHead(d, false), checkpoint: yield* latestCheckpoint() }
    })
  }

  linkPage(after: number, upTo: number, limit: number): Promise<{ links: ChainLink[]; index: Map<string, RecordIndexRow> }> {
    return this.#db.read('verifying the audit chain', function* (d) {
      const links = yield* all<ChainLink>(`SELECT ${linkColumns} FROM audit_chain WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, [after, upTo, limit])
      const ids = [...new Set(links.map((l) => l.recordId))]
      const rows = yield* all<IndexRow>(`SELECT ${indexColumns} FROM audit_records WHERE ${d.inList('id', 'text')}`, [d.list(ids)])
      return { links, index: new Map(rows.map((r) => [r.id, { ...r, skills: d.readList(r.skills) }])) }
    })
  }

  linksUpTo(seq: number, limit: number): Promise<LinkRef[]> {
    return this.#db.single('verifying the audit chain', 'read', () => all<LinkRef>('SELECT seq, record_id AS "recordId" FROM audit_chain WHERE seq <= ? ORDER BY seq LIMIT ?', [seq, limit]))
  }

  /** Each check is one consistent statement. */
  strays(limit: number): Promise<{ beyondHead: LinkRef[]; orphans: OrphanRecord[] }> {
    return this.#db.read('verifying the audit chain', function* () {
      const beyondHead = yield* all<LinkRef>(
        'SELECT c.seq, c.record_id AS "recordId" FROM audit_chain c WHERE c.seq > (SELECT seq FROM audit_chain_head WHERE id = 1) ORDER BY c.seq LIMIT ?',
        [limit],
      )
      const orphans = yield* all<OrphanRecord>(
        `SELECT r.id, r.seq_open AS "seqOpen", r.seq_close AS "seqClose" FROM audit_records r
         WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_open AND c.record_id = r.id AND c.kind = 'open')
            OR (r.seq_close IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_close AND c.record_id = r.id AND c.kind = 'close'))
         ORDER BY r.id LIMIT ?`,
        [limit],
      )
      return { beyondHead, orphans }
    })
  }
}

/** The stored head; `lock` holds the chain lock until commit where the dialect needs a row lock for it. */
export function* readHead(d: Dialect, lock: boolean): Step<ChainHead> {
  const head = yield* get<ChainHead>(`SELECT seq, hash FROM audit_chain_head WHERE id = 1${lock ? d.forUpdate : ''}`)
  if (head === undefined) throw new Error('no such table row: audit_chain_head is empty')
  return head
}

export function* latestCheckpoint(): Step<ChainHead | null> {
  return (yield* get<ChainHead>('SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1')) ?? null
}

/** `audit_records` rows as `LedgerRecord`s. */
const selectStates = 'SELECT id, outcome, seq_open AS "seqOpen", started_at AS "startedAt" FROM audit_records'

function* readTargets(d: Dialect, target: LedgerTarget, at: number, lease: WriterLease): Step<Map<string, LedgerRecord>> {
  const rows =
    target.kind === 'records'
      ? yield* recordStates(d, target.ids)
      : yield* all<LedgerRecord>(
          `${selectStates} r
           WHERE r.outcome = 'open' AND r.writer <> ? AND r.started_at < ?
             AND NOT EXISTS (SELECT 1 FROM audit_writers w WHERE w.id = r.writer AND w.heartbeat_at >= ?)
           ORDER BY r.seq_open LIMIT ?`,
          [lease.writerId, target.startedBefore, at - lease.leaseMs, target.limit],
        )
  return new Map(rows.map((r) => [r.id, r]))
}

/** A lone id (every batch of an idle gateway) is a plain key lookup: cheaper than a list in SQLite. */
function recordStates(d: Dialect, ids: readonly string[]): Step<LedgerRecord[]> {
  return ids.length === 1 ? all<LedgerRecord>(`${selectStates} WHERE id = ?`, ids) : all<LedgerRecord>(`${selectStates} WHERE ${d.inList('id', 'text')}`, [d.list(ids)])
}

const text = (name: string): Column => ({ name, type: 'text' })
const int8 = (name: string): Column => ({ name, type: 'int8' })
const linkTable = [int8('seq'), text('kind'), text('record_id'), int8('at'), text('body'), text('prev_hash'), text('hash')]
const recordTable = [
  ...[text('id'), int8('started_at'), int8('ended_at'), text('principal'), text('issuer'), text('rule'), text('decision'), text('outcome')],
  ...[{ name: 'skills', type: 'textlist' } as const, text('writer'), int8('seq_open'), int8('seq_close')],
]
const closeColumns = [text('outcome'), int8('seq_close'), int8('ended_at')]

function* writeAppend(d: Dialect, w: LedgerAppend, writer: string): Step<void> {
  if (w.links.length === 0) return
  yield* d.insertMany('audit_chain', linkTable, w.links.map((l) => [l.seq, l.kind, l.recordId, l.at, l.body, l.prevHash, l.hash]))
  yield* d.insertMany(
    'audit_records',
    recordTable,
    w.inserts.map((r) => [r.id, r.startedAt, r.endedAt, r.principal, r.issuer, r.rule, r.decision, r.outcome, r.skills, writer, r.seqOpen, r.seqClose]),
  )
  yield* d.updateMany('audit_records', text('id'), closeColumns, w.closes.map((u) => [u.id, u.outcome, u.seqClose, u.endedAt]), `audit_records.outcome = 'open'`)
  yield* run('UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1', [w.head.seq, w.head.hash])
}

export function renewLease(writerId: string, at: number): Step<number> {
  return run('INSERT INTO audit_writers (id, heartbeat_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at', [writerId, at])
}
