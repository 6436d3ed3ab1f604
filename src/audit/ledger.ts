import type { ChainHead, ChainLink, RecordIndexRow } from './chain.js'

/**
 * The audit ledger port: the little the audit needs from a store to keep its hash chain. The chain
 * rules — planning a batch of halves into links, verification, marking abandoned records
 * interrupted — live in `src/audit/` and are written once; a store (src/storage/audit-ledger.ts)
 * only appends what it is handed under the lock that serialises writers and reads link ranges.
 */

/** What a store knows of a record before a batch. */
export interface LedgerRecord {
  readonly id: string
  readonly outcome: string
  readonly seqOpen: number
  /** ms since the epoch. */
  readonly startedAt: number
}

/** A record that a batch closes, begun in an earlier transaction. */
export interface CloseUpdate {
  readonly id: string
  readonly outcome: string
  readonly seqClose: number
  readonly endedAt: number
}

/** What one locked transaction reads before planning. */
export interface LedgerView {
  readonly head: ChainHead
  /** The target records that exist, in the store's order (abandoned records: oldest first). */
  readonly records: ReadonlyMap<string, LedgerRecord>
}

/** What one locked transaction writes: links, new index rows, closed index rows and the new head. */
export interface LedgerAppend {
  readonly links: readonly ChainLink[]
  readonly inserts: readonly RecordIndexRow[]
  readonly closes: readonly CloseUpdate[]
  readonly head: ChainHead
}

export type LedgerTarget =
  /** These records (ids that do not exist are left out of the view). */
  | { readonly kind: 'records'; readonly ids: readonly string[] }
  /** Open records of writers whose lease has expired at the append time, started before `startedBefore`. */
  | { readonly kind: 'abandoned'; readonly startedBefore: number; readonly limit: number }

/** A link named by position, for problems found outside the walk. */
export interface LinkRef {
  readonly seq: number
  readonly recordId: string
}

export interface OrphanRecord {
  readonly id: string
  readonly seqOpen: number
  readonly seqClose: number | null
}

export interface AuditLedger {
  /**
   * One transaction under the chain lock: reads the head and the target records, calls `plan`
   * (pure and synchronous: SQLite runs it inside its synchronous transaction) and writes what it
   * returns. `at` is the commit time (ms) and the time the writer lease is judged by.
   */
  append<T>(what: string, at: number, target: LedgerTarget, plan: (view: LedgerView) => { readonly write: LedgerAppend; readonly result: T }): Promise<T>
  /** The stored head and the latest retention checkpoint, from one snapshot. */
  start(): Promise<{ readonly head: ChainHead; readonly checkpoint: ChainHead | null }>
  /** Links with `after < seq <= upTo`, ascending, at most `limit`, with their records' index rows (one snapshot). */
  linkPage(after: number, upTo: number, limit: number): Promise<{ readonly links: readonly ChainLink[]; readonly index: ReadonlyMap<string, RecordIndexRow> }>
  /** Links at or before `seq`, ascending, at most `limit` (after retention there should be none). */
  linksUpTo(seq: number, limit: number): Promise<readonly LinkRef[]>
  /** Links past the stored head, and index rows not backed by their own links; at most `limit` of each. */
  strays(limit: number): Promise<{ readonly beyondHead: readonly LinkRef[]; readonly orphans: readonly OrphanRecord[] }>
}
