import type { ChainLink, ChainLinkKind, RecordIndexRow } from '../audit/chain.js'
import { assembleRecord, type AuditCompletion, type AuditOpening, type AuditRecord } from '../audit/record.js'
import { StorageError } from './errors.js'
import type { AuditListFilter, AuditListQuery, PageQuery } from './ports.js'
import type { Dialect } from './sql/db.js'

/** Audit rows as both stores select them, record assembly, and the cursor and limit checks. */

export const maxListLimit = 1_000
/** Page size of `iterate`. */
export const scanPageSize = 500

export const linkColumns = 'seq, kind, record_id, at, body, prev_hash, hash'
export const indexColumns = 'id, started_at, ended_at, principal, issuer, rule, decision, outcome, skills, seq_open, seq_close'

/** A row of `audit_chain` (`seq` and `at` already numbers). */
export interface LinkRow {
  readonly seq: number
  readonly kind: string
  readonly record_id: string
  readonly at: number
  readonly body: string
  readonly prev_hash: string
  readonly hash: string
}

/** A row of `audit_records`; `skills` as the dialect stores a list. */
export interface IndexRow {
  readonly id: string
  readonly started_at: number
  readonly ended_at: number | null
  readonly principal: string | null
  readonly issuer: string | null
  readonly rule: string | null
  readonly decision: string
  readonly outcome: string
  readonly skills: unknown
  readonly seq_open: number
  readonly seq_close: number | null
}

export function linkFromRow(row: LinkRow): ChainLink {
  return {
    seq: row.seq,
    kind: row.kind as ChainLinkKind,
    recordId: row.record_id,
    at: row.at,
    body: row.body,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}

export function indexFromRow(d: Dialect, r: IndexRow): RecordIndexRow {
  return {
    id: r.id,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    principal: r.principal,
    issuer: r.issuer,
    rule: r.rule,
    decision: r.decision,
    outcome: r.outcome,
    skills: d.readList(r.skills),
    seqOpen: r.seq_open,
    seqClose: r.seq_close,
  }
}

/** Rebuilds a record from its links; a missing or unreadable opening means the store was altered. */
export function recordFromLinks(id: string, open: LinkRow | undefined, close: LinkRow | undefined): AuditRecord {
  if (open === undefined) throw new StorageError('conflict', `audit record ${id} has lost its opening link; run audit verify`)
  try {
    const opening = JSON.parse(open.body) as AuditOpening
    const completion = close === undefined ? null : (JSON.parse(close.body) as AuditCompletion)
    const position = (l: LinkRow) => ({ seq: l.seq, prevHash: l.prev_hash, hash: l.hash })
    return assembleRecord(opening, completion, { open: position(open), close: close === undefined ? null : position(close) })
  } catch (error) {
    throw new StorageError('conflict', `audit record ${id} is unreadable; run audit verify`, { cause: error })
  }
}

/** A JSON column; text that does not parse means the store was altered (`conflict`, naming `what`). */
export function readJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T
  } catch (error) {
    throw new StorageError('conflict', `${what} is unreadable`, { cause: error })
  }
}

const isRecordId = (id: string): boolean => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)

export function checkListQuery(query: AuditListQuery): void {
  checkPage(query, isRecordId)
  checkFilter(query)
}

/** A Date that holds a time (an invalid Date is refused as input, never stored). */
export function checkTime(value: Date, name: string): void {
  if (!(value instanceof Date) || !Number.isFinite(value.getTime())) throw new StorageError('invalid', `${name} is not a valid time`)
}

/** Every listing: the limit, and a cursor that is an id of the kind the listing returns (`isId`). */
export function checkPage(query: PageQuery, isId: (cursor: string) => boolean): void {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > maxListLimit) throw new StorageError('invalid', `limit must be an integer from 1 to ${maxListLimit}`)
  if (query.cursor !== undefined && !isId(query.cursor)) throw new StorageError('invalid', 'cursor is not one this store returned')
}

export function checkFilter(filter: AuditListFilter): void {
  for (const key of ['from', 'to'] as const) {
    const value = filter[key]
    if (value !== undefined && !Number.isFinite(value.getTime())) throw new StorageError('invalid', `${key} is not a valid time`)
  }
}
