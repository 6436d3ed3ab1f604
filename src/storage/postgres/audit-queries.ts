import { genesisHash, type ChainHead, type RecordIndexRow } from '../../audit/chain.js'
import { ChainVerifier, type VerifyReport } from '../../audit/chain-verifier.js'
import type { AuditRecord } from '../../audit/record.js'
import type { AuditListFilter, AuditListQuery, AuditPage, VerifyOptions } from '../ports.js'
import { checkFilter, checkListQuery, linkFromRow, recordFromLinks, scanPageSize, type LinkRow } from '../shared.js'
import { rows, type PgDb, type Queryable } from './db.js'

/** The read side of the PostgreSQL audit store: lookups, listing, export and chain verification. */

interface IndexRowDb {
  id: string
  started_at: number
  ended_at: number | null
  principal: string | null
  issuer: string | null
  rule: string | null
  decision: string
  outcome: string
  skills: string[]
  seq_open: number
  seq_close: number | null
}

const linkColumns = 'seq, kind, record_id, at, body, prev_hash, hash'
const indexColumns = 'id, started_at, ended_at, principal, issuer, rule, decision, outcome, skills, seq_open, seq_close'
/** Reads that combine several statements see one snapshot. */
const snapshot = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'

export async function readHead(client: Queryable, forUpdate = false): Promise<ChainHead> {
  const head = (await rows<ChainHead>(client, `SELECT seq, hash FROM audit_chain_head WHERE id = 1${forUpdate ? ' FOR UPDATE' : ''}`))[0]
  if (head === undefined) throw new Error('no such table row: audit_chain_head is empty')
  return head
}

export async function latestCheckpoint(client: Queryable): Promise<ChainHead | null> {
  return (await rows<ChainHead>(client, 'SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1'))[0] ?? null
}

function whereOf(filter: AuditListFilter, params: unknown[]): string[] {
  const where: string[] = []
  const add = (sql: (p: string) => string, value: unknown): void => {
    params.push(value)
    where.push(sql(`$${params.length}`))
  }
  if (filter.principal !== undefined) add((p) => `r.principal = ${p}`, filter.principal)
  if (filter.rule !== undefined) add((p) => `r.rule = ${p}`, filter.rule)
  if (filter.decision !== undefined) add((p) => `r.decision = ${p}`, filter.decision)
  if (filter.outcome !== undefined) add((p) => `r.outcome = ${p}`, filter.outcome)
  if (filter.skill !== undefined) add((p) => `r.skills @> ARRAY[${p}::text]`, filter.skill)
  // Read from the opening link: no index column, so the other filters should narrow first.
  if (filter.clientSession !== undefined) add((p) => `EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_open AND (c.body::jsonb ->> 'clientSession') = ${p})`, filter.clientSession)
  if (filter.from !== undefined) add((p) => `r.started_at >= ${p}`, filter.from.getTime())
  if (filter.to !== undefined) add((p) => `r.started_at < ${p}`, filter.to.getTime())
  return where
}

async function loadRecords(client: Queryable, index: readonly Pick<IndexRowDb, 'id' | 'seq_open' | 'seq_close'>[]): Promise<AuditRecord[]> {
  if (index.length === 0) return []
  const seqs = index.flatMap((r) => (r.seq_close === null ? [r.seq_open] : [r.seq_open, r.seq_close]))
  const links = await rows<LinkRow>(client, `SELECT ${linkColumns} FROM audit_chain WHERE seq = ANY($1::int8[])`, [seqs])
  const bySeq = new Map(links.map((l) => [l.seq, l]))
  return index.map((r) => recordFromLinks(r.id, bySeq.get(r.seq_open), r.seq_close === null ? undefined : bySeq.get(r.seq_close)))
}

export async function getRecord(db: PgDb, id: string): Promise<AuditRecord | undefined> {
  return db.tx(
    'reading an audit record',
    async (client) => {
      const row = (await rows<IndexRowDb>(client, 'SELECT id, seq_open, seq_close FROM audit_records WHERE id = $1', [id]))[0]
      return row === undefined ? undefined : (await loadRecords(client, [row]))[0]
    },
    snapshot,
  )
}

export async function listRecords(db: PgDb, query: AuditListQuery): Promise<AuditPage> {
  checkListQuery(query)
  const params: unknown[] = []
  const where = whereOf(query, params)
  if (query.cursor !== undefined) {
    params.push(query.cursor)
    where.push(`r.id < $${params.length}`)
  }
  params.push(query.limit + 1)
  const sql = `SELECT id, seq_open, seq_close FROM audit_records r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT $${params.length}`
  return db.tx(
    'listing audit records',
    async (client) => {
      const found = await rows<IndexRowDb>(client, sql, params)
      const page = found.slice(0, query.limit)
      const records = await loadRecords(client, page)
      return { records, nextCursor: found.length > query.limit ? (page[page.length - 1]?.id ?? null) : null }
    },
    snapshot,
  )
}

export async function* iterateRecords(db: PgDb, filter: AuditListFilter): AsyncGenerator<AuditRecord> {
  checkFilter(filter)
  let after = ''
  for (;;) {
    const params: unknown[] = []
    const where = whereOf(filter, params)
    params.push(after, scanPageSize)
    where.push(`r.id > $${params.length - 1}`)
    const sql = `SELECT id, seq_open, seq_close FROM audit_records r WHERE ${where.join(' AND ')} ORDER BY r.id ASC LIMIT $${params.length}`
    const records = await db.tx('exporting audit records', async (client) => loadRecords(client, await rows<IndexRowDb>(client, sql, params)), snapshot)
    yield* records
    const last = records[records.length - 1]
    if (records.length < scanPageSize || last === undefined) return
    after = last.id
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
    skills: r.skills,
    seqOpen: r.seq_open,
    seqClose: r.seq_close,
  }
}

export async function verifyChain(db: PgDb, options: VerifyOptions = {}): Promise<VerifyReport> {
  const start = await db.tx('verifying the audit chain', async (c) => ({ head: await readHead(c), checkpoint: await latestCheckpoint(c) }), snapshot)
  const { head, checkpoint } = start
  const verifier = new ChainVerifier(checkpoint ? { ...checkpoint, checkpoint: true } : { seq: 0, hash: genesisHash, checkpoint: false })
  if (checkpoint) {
    const strays = await db.query<{ seq: number; record_id: string }>('verifying the audit chain', 'SELECT seq, record_id FROM audit_chain WHERE seq <= $1 ORDER BY seq LIMIT 100', [checkpoint.seq])
    for (const s of strays) verifier.problem('stray_link', s.seq, s.record_id, `link ${s.seq} lies at or before the retention checkpoint ${checkpoint.seq}`)
  }
  for (;;) {
    const page = await db.tx(
      'verifying the audit chain',
      async (c) => {
        const links = await rows<LinkRow>(c, `SELECT ${linkColumns} FROM audit_chain WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`, [verifier.lastSeq, head.seq, scanPageSize])
        const ids = [...new Set(links.map((l) => l.record_id))]
        const index = await rows<IndexRowDb>(c, `SELECT ${indexColumns} FROM audit_records WHERE id = ANY($1::text[])`, [ids])
        return { links, index: new Map(index.map((r) => [r.id, toIndexRow(r)])) }
      },
      snapshot,
    )
    for (const link of page.links) verifier.check(linkFromRow(link), page.index.get(link.record_id))
    options.onProgress?.(verifier.lastSeq, head.seq)
    if (page.links.length < scanPageSize) break
  }
  await reportStrays(db, verifier)
  return verifier.report(head)
}

async function reportStrays(db: PgDb, verifier: ChainVerifier): Promise<void> {
  const beyond = await db.query<{ seq: number; record_id: string }>(
    'verifying the audit chain',
    'SELECT c.seq, c.record_id FROM audit_chain c WHERE c.seq > (SELECT seq FROM audit_chain_head WHERE id = 1) ORDER BY c.seq LIMIT 100',
  )
  for (const s of beyond) verifier.problem('stray_link', s.seq, s.record_id, `link ${s.seq} lies beyond the stored head`)
  const orphans = await db.query<{ id: string; seq_open: number; seq_close: number | null }>(
    'verifying the audit chain',
    `SELECT r.id, r.seq_open, r.seq_close FROM audit_records r
     WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_open AND c.record_id = r.id AND c.kind = 'open')
        OR (r.seq_close IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = r.seq_close AND c.record_id = r.id AND c.kind = 'close'))
     ORDER BY r.id LIMIT 100`,
  )
  for (const o of orphans) {
    verifier.problem('orphan_record', o.seq_open, o.id, `record ${o.id} is not backed by its own chain links (index says ${o.seq_open}${o.seq_close === null ? '' : `/${o.seq_close}`})`)
  }
}
