import { indexFieldsOf, linkHash, type ChainHead, type ChainLink, type RecordIndexRow } from './chain.js'
import { tryJson } from './heads/head.js'
import type { AuditCompletion, AuditOpening } from './record.js'

/**
 * Walks the chain in `seq` order and names every inconsistency by position and record id.
 * `verifyLedger` (ledger-verifier.ts) feeds it links and each link's index row from any store; the
 * verifier itself does no I/O.
 */

export type VerifyProblemKind =
  /** Links are missing between two positions (deleted rows). */
  | 'gap'
  /** A link's prevHash is not the previous link's hash (inserted, replaced or reordered links). */
  | 'broken_link'
  /** A link's content no longer matches its hash (edited after it was chained). */
  | 'hash_mismatch'
  /** A link's body is not a valid record half. */
  | 'malformed_link'
  /** The index row disagrees with the chain (edited query columns). */
  | 'record_mismatch'
  /** A chained record has no index row (deleted from the index). */
  | 'record_missing'
  /** An index row points to no link of its own (forged or inserted record). */
  | 'orphan_record'
  /** The last link is not the stored head (links removed from the end, or the head edited). */
  | 'head_mismatch'
  /** Links exist past the stored head, or at or before the retention checkpoint. */
  | 'stray_link'

export interface VerifyProblem {
  readonly kind: VerifyProblemKind
  /** Chain position, when the problem has one. */
  readonly seq: number | null
  readonly recordId: string | null
  readonly detail: string
}

export interface VerifyReport {
  readonly ok: boolean
  /** Where verification started: the genesis (seq 0) or the latest retention checkpoint. */
  readonly from: ChainHead & { readonly checkpoint: boolean }
  readonly head: ChainHead
  readonly links: number
  readonly records: number
  /** At most `maxProblems`; `problemCount` is the full count. */
  readonly problems: readonly VerifyProblem[]
  readonly problemCount: number
}

export class ChainVerifier {
  readonly #from: ChainHead & { checkpoint: boolean }
  readonly #maxProblems: number
  readonly #problems: VerifyProblem[] = []
  #problemCount = 0
  #last: ChainHead
  #links = 0
  #records = 0

  constructor(from: ChainHead & { checkpoint: boolean }, maxProblems = 1_000) {
    this.#from = from
    this.#last = { seq: from.seq, hash: from.hash }
    this.#maxProblems = maxProblems
  }

  get lastSeq(): number {
    return this.#last.seq
  }

  problem(kind: VerifyProblemKind, seq: number | null, recordId: string | null, detail: string): void {
    this.#problemCount += 1
    if (this.#problems.length < this.#maxProblems) this.#problems.push({ kind, seq, recordId, detail })
  }

  /** Feed links in ascending `seq`, each with the index row of its record (undefined when none). */
  check(link: ChainLink, row: RecordIndexRow | undefined): void {
    this.#links += 1
    const expected = this.#last.seq + 1
    if (link.seq > expected) {
      const range = link.seq - 1 === expected ? `link ${expected} is` : `links ${expected}..${link.seq - 1} are`
      this.problem('gap', link.seq, link.recordId, `${range} missing before link ${link.seq}`)
    } else if (link.prevHash !== this.#last.hash) {
      this.problem('broken_link', link.seq, link.recordId, `prevHash does not match the hash of link ${this.#last.seq}`)
    }
    const { hash: _stored, ...unhashed } = link
    if (linkHash(unhashed) !== link.hash) {
      this.problem('hash_mismatch', link.seq, link.recordId, `link ${link.seq} (${link.kind}) was changed after it was chained`)
    }
    // Continue from the stored hash so one edited link is one problem, not a cascade.
    this.#last = { seq: link.seq, hash: link.hash }
    if (link.kind === 'open') this.#records += 1
    this.#checkIndex(link, row)
  }

  #checkIndex(link: ChainLink, row: RecordIndexRow | undefined): void {
    const body = parseBody(link.body)
    if (body === undefined) {
      this.problem('malformed_link', link.seq, link.recordId, `link ${link.seq} does not hold a JSON object`)
      return
    }
    if (row === undefined) {
      this.problem('record_missing', link.seq, link.recordId, `record ${link.recordId} of link ${link.seq} has no index row`)
      return
    }
    const mismatch = link.kind === 'open' ? openMismatch(link, body as unknown as AuditOpening, row) : closeMismatch(link, body as unknown as AuditCompletion, row)
    if (mismatch) this.problem('record_mismatch', link.seq, link.recordId, `record ${link.recordId}: ${mismatch}`)
  }

  report(head: ChainHead): VerifyReport {
    if (this.#last.seq !== head.seq || this.#last.hash !== head.hash) {
      this.problem('head_mismatch', head.seq, null, `the chain ends at link ${this.#last.seq} but the stored head is link ${head.seq}`)
    }
    return {
      ok: this.#problemCount === 0,
      from: this.#from,
      head,
      links: this.#links,
      records: this.#records,
      problems: this.#problems,
      problemCount: this.#problemCount,
    }
  }
}

function parseBody(text: string): Record<string, unknown> | undefined {
  const value = tryJson(text)
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}

function openMismatch(link: ChainLink, opening: AuditOpening, row: RecordIndexRow): string | undefined {
  if (row.seqOpen !== link.seq) return `index points to opening link ${row.seqOpen}, chain has it at ${link.seq}`
  if (opening.id !== link.recordId) return `opening link ${link.seq} names record ${String(opening.id)}`
  const expected = indexFieldsOf(opening)
  for (const key of ['startedAt', 'principal', 'issuer', 'rule', 'decision'] as const) {
    if (row[key] !== expected[key]) return `index column ${key} differs from opening link ${link.seq}`
  }
  if (JSON.stringify(row.skills) !== JSON.stringify(expected.skills)) return `index column skills differs from opening link ${link.seq}`
  if (row.seqClose === null && row.outcome !== 'open') return `index says ${row.outcome} but the record has no completion link`
  if (row.seqClose !== null && row.seqClose <= link.seq) return `index points to completion link ${row.seqClose}, before its opening`
  return undefined
}

function closeMismatch(link: ChainLink, completion: AuditCompletion, row: RecordIndexRow): string | undefined {
  if (row.seqClose !== link.seq) return `index points to completion link ${String(row.seqClose)}, chain has it at ${link.seq}`
  if (row.outcome !== completion.outcome) return `index column outcome differs from completion link ${link.seq}`
  if (row.endedAt !== link.at) return `index column endedAt differs from completion link ${link.seq}`
  return undefined
}
