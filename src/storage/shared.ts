import type { ChainLink, RecordIndexRow } from '../audit/chain.js'
import { assembleRecord, type AuditCompletion, type AuditOpening, type AuditRecord } from '../audit/record.js'
import { StorageError } from './errors.js'
import type { AuditListFilter, AuditListQuery, PageQuery } from './ports.js'

/** Audit rows as both stores select them, record assembly, and the cursor and limit checks. */

export const maxListLimit = 1_000
/** Page size of `iterate`. */
export const scanPageSize = 500

/** `audit_chain` columns as a `ChainLink`: both dialects return int8 columns as numbers. */
export const linkColumns = 'seq, kind, record_id AS "recordId", at, body, prev_hash AS "prevHash", hash'
/** `audit_records` columns as a `RecordIndexRow`, except `skills` (see `IndexRow`). */
export const indexColumns =
  'id, started_at AS "startedAt", ended_at AS "endedAt", principal, issuer, rule, decision, outcome, skills, seq_open AS "seqOpen", seq_close AS "seqClose"'

/** A row of `indexColumns`: `skills` as the dialect stores a list, for `Dialect.readList`. */
export type IndexRow = Omit<RecordIndexRow, 'skills'> & { readonly skills: unknown }

/** Rebuilds a record from its links; a missing or unreadable opening means the store was altered. */
export function recordFromLinks(id: string, open: ChainLink | undefined, close: ChainLink | undefined): AuditRecord {
  if (open === undefined) throw new StorageError('conflict', `audit record ${id} has lost its opening link; run audit verify`)
  try {
    const opening = JSON.parse(open.body) as AuditOpening
    const completion = close === undefined ? null : (JSON.parse(close.body) as AuditCompletion)
    const position = (l: ChainLink) => ({ seq: l.seq, prevHash: l.prevHash, hash: l.hash })
    return assembleRecord(opening, completion, { open: position(open), close: close === undefined ? null : position(close) })
  } catch (error) {
    throw new StorageError('conflict', `audit record ${id} is unreadable; run audit verify`, { cause: error })
  }
}

/** A port object as its row comes back when the SELECT names each column as the port does (`created_at AS "createdAt"`): times as epoch ms. */
export type Stored<T> = { readonly [K in keyof T]: T[K] extends Date ? number : T[K] extends Date | null ? number | null : T[K] }

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
