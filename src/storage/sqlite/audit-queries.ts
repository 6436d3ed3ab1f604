import { setImmediate as nextTurn } from 'node:timers/promises'
import { genesisHash, type ChainHead, type RecordIndexRow } from '../../audit/chain.js'
import { ChainVerifier, type VerifyReport } from '../../audit/chain-verifier.js'
import type { AuditRecord } from '../../audit/record.js'
import type { AuditListFilter, AuditListQuery, AuditPage, VerifyOptions } from '../ports.js'
import { checkFilter, checkListQuery, linkFromRow, recordFromLinks, scanPageSize, type LinkRow } from '../shared.js'
import type { SqliteConnection } from './connection.js'

/** The read side of the SQLite audit store: lookups, listing, export and chain verification. */

interface IndexRowDb {
  id: string
  started_at: number
  ended_at: number | null
  principal: string | null
  issuer: string | null
  rule: string | null
  decision: string
  outcome: string
  skills: string
  seq_open: number
  seq_close: number | null
}

const linkColumns = 'seq, kind, record_id, at, body, prev_hash, hash'
const indexColumns = 'id, started_at, ended_at, principal, issuer, rule, decision, outcome, skills, seq_open, seq_close'

export function readHead(conn: SqliteConnection): ChainHead {
  return conn.stmt('SELECT seq, hash FROM audit_chain_head WHERE id = 1').get() as ChainHead
}

export function latestCheckpoint(conn: SqliteConnection): ChainHead | null {
  return (conn.stmt('SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1').get() as ChainHead | undefined) ?? null
}

function whereOf(filter: AuditListFilter, params: unknown[]): string[] {
  const where: string[] = []
  const eq = (column: string, value: string | undefined): void => {
    if (value === undefined) return
    where.push(`r.${column} = ?`)
    params.push(value)
  }
  eq('principal', filter.principal)
  eq('rule', filter.rule)
  eq('decision', filter.decision)
  eq('outcome', filter.outcome)
  if (filter.skill !== undefined) {
    where.push('EXISTS (SELECT 1 FROM json_each(r.skills) AS s WHERE s.value = ?)')
    params.push(filter.skill)
  }
  if (filter.clientSession !== undefined) {
    // Read from the opening link: no index column, so the other filters should narrow first.
    where.push("EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_open AND json_extract(c.body, '$.clientSession') = ?)")
    params.push(filter.clientSession)
  }
  if (filter.from !== undefined) {
    where.push('r.started_at >= ?')
    params.push(filter.from.getTime())
  }
  if (filter.to !== undefined) {
    where.push('r.started_at < ?')
    params.push(filter.to.getTime())
  }
  return where
}

/** Loads the links of the given index rows and assembles the records, in the rows' order. */
function loadRecords(conn: SqliteConnection, rows: readonly Pick<IndexRowDb, 'id' | 'seq_open' | 'seq_close'>[]): AuditRecord[] {
  if (rows.length === 0) return []
  const seqs = rows.flatMap((r) => (r.seq_close === null ? [r.seq_open] : [r.seq_open, r.seq_close]))
  const links = conn.stmt(`SELECT ${linkColumns} FROM audit_chain WHERE seq IN (SELECT value FROM json_each(?))`).all(JSON.stringify(seqs)) as LinkRow[]
  const bySeq = new Map(links.map((l) => [l.seq, l]))
  return rows.map((r) => recordFromLinks(r.id, bySeq.get(r.seq_open), r.seq_close === null ? undefined : bySeq.get(r.seq_close)))
}

export function getRecord(conn: SqliteConnection, id: string): AuditRecord | undefined {
  return conn.read('reading an audit record', () => {
    const row = conn.stmt('SELECT id, seq_open, seq_close FROM audit_records WHERE id = ?').get(id) as IndexRowDb | undefined
    return row === undefined ? undefined : loadRecords(conn, [row])[0]
  })
}

export function listRecords(conn: SqliteConnection, query: AuditListQuery): AuditPage {
  checkListQuery(query)
  const params: unknown[] = []
  const where = whereOf(query, params)
  if (query.cursor !== undefined) {
    where.push('r.id < ?')
    params.push(query.cursor)
  }
  const sql = `SELECT id, seq_open, seq_close FROM audit_records r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT ?`
  return conn.read('listing audit records', () => {
    const rows = conn.stmt(sql).all(...params, query.limit + 1) as IndexRowDb[]
    const page = rows.slice(0, query.limit)
    const records = loadRecords(conn, page)
    return { records, nextCursor: rows.length > query.limit ? (page[page.length - 1]?.id ?? null) : null }
  })
}

export async function* iterateRecords(conn: SqliteConnection, filter: AuditListFilter): AsyncGenerator<AuditRecord> {
  checkFilter(filter)
  let after = ''
  for (;;) {
    const params: unknown[] = []
    const where = whereOf(filter, params)
    where.push('r.id > ?')
    const sql = `SELECT id, seq_open, seq_close FROM audit_records r WHERE ${where.join(' AND ')} ORDER BY r.id ASC LIMIT ?`
    const records = conn.read('exporting audit records', () => loadRecords(conn, conn.stmt(sql).all(...params, after, scanPageSize) as IndexRowDb[]))
    yield* records
    const last = records[records.length - 1]
    if (records.length < scanPageSize || last === undefined) return
    after = last.id
    await nextTurn()
  }
}

function toIndexRow(r: IndexRowDb): RecordIndexRow {
  return {
    id: r.id,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    principal: r.principal,
    issuer: r.issuer,
    rule: r.rule,
    decision: r.decision,
    outcome: r.outcome,
    skills: parseSkills(r.skills),
    seqOpen: r.seq_open,
    seqClose: r.seq_close,
  }
}

function parseSkills(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text)
    return Array.isArray(value) ? value.map(String) : []
  } catch {
    return [`<unreadable: ${text.slice(0, 40)}>`]
  }
}

/** Walks the chain page by page, yielding to the event loop between pages. */
export async function verifyChain(conn: SqliteConnection, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { head, checkpoint } = conn.read('verifying the audit chain', () => ({ head: readHead(conn), checkpoint: latestCheckpoint(conn) }))
  const verifier = new ChainVerifier(checkpoint ? { ...checkpoint, checkpoint: true } : { seq: 0, hash: genesisHash, checkpoint: false })
  if (checkpoint) {
    const strays = conn.read('verifying the audit chain', () => conn.stmt('SELECT seq, record_id FROM audit_chain WHERE seq <= ? ORDER BY seq LIMIT 100').all(checkpoint.seq)) as { seq: number; record_id: string }[]
    for (const s of strays) verifier.problem('stray_link', s.seq, s.record_id, `link ${s.seq} lies at or before the retention checkpoint ${checkpoint.seq}`)
  }
  for (;;) {
    const page = conn.read('verifying the audit chain', () => {
      const links = conn.stmt(`SELECT ${linkColumns} FROM audit_chain WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`).all(verifier.lastSeq, head.seq, scanPageSize) as LinkRow[]
      const ids = [...new Set(links.map((l) => l.record_id))]
      const rows = conn.stmt(`SELECT ${indexColumns} FROM audit_records WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as IndexRowDb[]
      return { links, rows: new Map(rows.map((r) => [r.id, toIndexRow(r)])) }
    })
    for (const link of page.links) verifier.check(linkFromRow(link), page.rows.get(link.record_id))
    options.onProgress?.(verifier.lastSeq, head.seq)
    if (page.links.length < scanPageSize) break
    await nextTurn()
  }
  conn.read('verifying the audit chain', () => reportStrays(conn, verifier))
  return verifier.report(head)
}

/** Links past the head and index rows without their own links; each check is one consistent statement. */
function reportStrays(conn: SqliteConnection, verifier: ChainVerifier): void {
  const beyond = conn.stmt('SELECT c.seq, c.record_id FROM audit_chain c WHERE c.seq > (SELECT seq FROM audit_chain_head WHERE id = 1) ORDER BY c.seq LIMIT 100').all() as { seq: number; record_id: string }[]
  for (const s of beyond) verifier.problem('stray_link', s.seq, s.record_id, `link ${s.seq} lies beyond the stored head`)
  const orphans = conn
    .stmt(
      `SELECT r.id, r.seq_open, r.seq_close FROM audit_records r
       WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_open AND c.record_id = r.id AND c.kind = 'open')
          OR (r.seq_close IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_close AND c.record_id = r.id AND c.kind = 'close'))
       ORDER BY r.id LIMIT 100`,
    )
    .all() as { id: string; seq_open: number; seq_close: number | null }[]
  for (const o of orphans) {
    verifier.problem('orphan_record', o.seq_open, o.id, `record ${o.id} is not backed by its own chain links (index says ${o.seq_open}${o.seq_close === null ? '' : `/${o.seq_close}`})`)
  }
}
