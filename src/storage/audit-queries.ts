import { setImmediate as nextTurn } from 'node:timers/promises'
import type { ChainLink } from '../audit/chain.js'
import type { AuditRecord } from '../audit/record.js'
import type { AuditListFilter, AuditListQuery, AuditPage } from './ports.js'
import { checkFilter, checkListQuery, linkColumns, recordFromLinks, scanPageSize } from './shared.js'
import type { Dialect, SqlDb } from './sql/db.js'
import { all, get, type Step } from './sql/step.js'

/** The read side of the audit store: lookups, listing and export, each page from one snapshot. */

type RecordRef = { readonly id: string; readonly seq_open: number; readonly seq_close: number | null }

function whereOf(d: Dialect, filter: AuditListFilter, params: unknown[]): string[] {
  const where: string[] = []
  const add = (clause: string, value: unknown): void => {
    where.push(clause)
    params.push(value)
  }
  if (filter.principal !== undefined) add('r.principal = ?', filter.principal)
  if (filter.actor !== undefined) {
    // Admin-action records carry the actor as principal and `admin:<kind>` as issuer (no issuer id has a colon).
    add('r.principal = ?', filter.actor)
    where.push(`r.issuer LIKE 'admin:%'`)
  }
  if (filter.rule !== undefined) add('r.rule = ?', filter.rule)
  if (filter.decision !== undefined) add('r.decision = ?', filter.decision)
  if (filter.outcome !== undefined) add('r.outcome = ?', filter.outcome)
  if (filter.skill !== undefined) add(d.listContains('r.skills'), filter.skill)
  // Read from the opening link: no index column, so the other filters should narrow first.
  if (filter.clientSession !== undefined) add(`EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_open AND ${d.jsonMember('c.body', 'clientSession')} = ?)`, filter.clientSession)
  if (filter.endpoint !== undefined) add(`EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_open AND ${d.jsonMember('c.body', 'endpoint')} = ?)`, filter.endpoint)
  if (filter.from !== undefined) add('r.started_at >= ?', filter.from.getTime())
  if (filter.to !== undefined) add('r.started_at < ?', filter.to.getTime())
  return where
}

/** Loads the links of the given index rows and assembles the records, in the rows' order. */
function* loadRecords(d: Dialect, refs: readonly RecordRef[]): Step<AuditRecord[]> {
  if (refs.length === 0) return []
  const seqs = refs.flatMap((r) => (r.seq_close === null ? [r.seq_open] : [r.seq_open, r.seq_close]))
  const links = yield* all<ChainLink>(`SELECT ${linkColumns} FROM audit_chain WHERE ${d.inList('seq', 'int8')}`, [d.list(seqs)])
  const bySeq = new Map(links.map((l) => [l.seq, l]))
  return refs.map((r) => recordFromLinks(r.id, bySeq.get(r.seq_open), r.seq_close === null ? undefined : bySeq.get(r.seq_close)))
}

export async function getRecord(db: SqlDb, id: string): Promise<AuditRecord | undefined> {
  return db.read('reading an audit record', function* (d) {
    const ref = yield* get<RecordRef>('SELECT id, seq_open, seq_close FROM audit_records WHERE id = ?', [id])
    return ref === undefined ? undefined : (yield* loadRecords(d, [ref]))[0]
  })
}

export async function listRecords(db: SqlDb, query: AuditListQuery): Promise<AuditPage> {
  checkListQuery(query)
  return db.read('listing audit records', function* (d): Step<AuditPage> {
    const params: unknown[] = []
    const where = whereOf(d, query, params)
    if (query.cursor !== undefined) {
      where.push('r.id < ?')
      params.push(query.cursor)
    }
    const sql = `SELECT id, seq_open, seq_close FROM audit_records r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT ?`
    const refs = yield* all<RecordRef>(sql, [...params, query.limit + 1])
    const page = refs.slice(0, query.limit)
    const records = yield* loadRecords(d, page)
    return { records, nextCursor: refs.length > query.limit ? (page[page.length - 1]?.id ?? null) : null }
  })
}

/** Oldest first, a page per snapshot, yielding to the event loop between pages. */
export async function* iterateRecords(db: SqlDb, filter: AuditListFilter): AsyncGenerator<AuditRecord> {
  checkFilter(filter)
  let after = ''
  for (;;) {
    const records = await db.read('exporting audit records', function* (d) {
      const params: unknown[] = []
      const where = [...whereOf(d, filter, params), 'r.id > ?']
      const sql = `SELECT id, seq_open, seq_close FROM audit_records r WHERE ${where.join(' AND ')} ORDER BY r.id ASC LIMIT ?`
      return yield* loadRecords(d, yield* all<RecordRef>(sql, [...params, after, scanPageSize]))
    })
    yield* records
    const last = records[records.length - 1]
    if (records.length < scanPageSize || last === undefined) return
    after = last.id
    await nextTurn()
  }
}
