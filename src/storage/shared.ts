import type { ChainLink, ChainLinkKind } from '../audit/chain.js'
import { assembleRecord, type AuditCompletion, type AuditOpening, type AuditRecord } from '../audit/record.js'
import { StorageError } from './errors.js'
import type { AuditListFilter, AuditListQuery } from './ports.js'

/** Small pieces both adapters share: record assembly, cursor and limit checks, the prune cut. */

export const maxListLimit = 1_000
/** Page size of `iterate` and `verify`. */
export const scanPageSize = 500

/** A link row as both adapters select it (`seq` and `at` already numbers). */
export interface LinkRow {
  readonly seq: number
  readonly kind: string
  readonly record_id: string
  readonly at: number
  readonly body: string
  readonly prev_hash: string
  readonly hash: string
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

const cursorPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/

export function checkListQuery(query: AuditListQuery): void {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > maxListLimit) {
    throw new StorageError('invalid', `limit must be an integer from 1 to ${maxListLimit}`)
  }
  if (query.cursor !== undefined && !cursorPattern.test(query.cursor)) throw new StorageError('invalid', 'cursor is not one this store returned')
  checkFilter(query)
}

export function checkFilter(filter: AuditListFilter): void {
  for (const key of ['from', 'to'] as const) {
    const value = filter[key]
    if (value !== undefined && !Number.isFinite(value.getTime())) throw new StorageError('invalid', `${key} is not a valid time`)
  }
}

/**
 * Retention cuts the chain at the largest position `cut` such that every link up to it belongs to a
 * record that is closed, ended before the retention time, and has all its links at or before `cut`.
 * A record never loses one of its two links to pruning.
 */
export async function findPruneCut(
  headSeq: number,
  /** Smallest opening position of a record that must stay (open, or ended at/after the retention time). */
  firstKept: () => Promise<number | null>,
  /** Smallest opening position of a record opened at or before `cut` but closed after it. */
  straddler: (cut: number) => Promise<number | null>,
): Promise<number> {
  const kept = await firstKept()
  let cut = kept === null ? headSeq : kept - 1
  for (;;) {
    const first = cut > 0 ? await straddler(cut) : null
    if (first === null) return cut
    cut = first - 1
  }
}
