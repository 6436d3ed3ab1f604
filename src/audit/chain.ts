import { createHash } from 'node:crypto'
import type { AuditOpening } from './record.js'

/**
 * The audit hash chain (docs/audit.md). Every request contributes two links: `open` carries the
 * opening, `close` the completion (or the `interrupted` completion written after a crash). A link's
 * hash covers its position, kind, record id, commit time, the previous link's hash and the
 * canonical JSON of its half, so an edit, a deletion, an insertion or a reordering changes some hash
 * or breaks some `prevHash`. Stores assign `seq` inside the committing transaction, under the lock
 * that serialises writers, so several processes and replicas extend one chain.
 */

/** prevHash of the first link ever written. */
export const genesisHash = '0'.repeat(64)

/** Domain separation: a link hash can never collide with a hash of some other skillgate text. */
const linkDomain = 'skillgate-audit-link-v1'

export type ChainLinkKind = 'open' | 'close'

/** The tip of the chain, or a checkpoint left by retention. */
export interface ChainHead {
  readonly seq: number
  readonly hash: string
}

/** A link as stored. `body` is the exact canonical JSON text that was hashed. */
export interface ChainLink {
  readonly seq: number
  readonly kind: ChainLinkKind
  readonly recordId: string
  /** Commit time, ms since the epoch (the store's clock). */
  readonly at: number
  readonly body: string
  readonly prevHash: string
  readonly hash: string
}

export type PendingLink = Pick<ChainLink, 'kind' | 'recordId' | 'at' | 'body'>

/** SHA-256 (hex) of one link; the text layout is documented in docs/audit.md for outside verifiers. */
export function linkHash(link: Omit<ChainLink, 'hash'>): string {
  return createHash('sha256')
    .update(`${linkDomain}\n${link.seq}\n${link.kind}\n${link.recordId}\n${link.at}\n${link.prevHash}\n`)
    .update(link.body)
    .digest('hex')
}

/**
 * Extends the chain from `head`. Must run inside the transaction that holds the chain lock and
 * that also moves the stored head to the returned one.
 */
export function appendLinks(head: ChainHead, pending: readonly PendingLink[]): { links: ChainLink[]; head: ChainHead } {
  const links: ChainLink[] = []
  let prev = head
  for (const p of pending) {
    const unhashed = { seq: prev.seq + 1, kind: p.kind, recordId: p.recordId, at: p.at, body: p.body, prevHash: prev.hash }
    // Written out, not `{ ...unhashed, hash }`: why, at indexRow in ./batch-plan.ts.
    const link: ChainLink = { seq: unhashed.seq, kind: p.kind, recordId: p.recordId, at: p.at, body: p.body, prevHash: prev.hash, hash: linkHash(unhashed) }
    links.push(link)
    prev = { seq: link.seq, hash: link.hash }
  }
  return { links, head: prev }
}

/**
 * The query columns a store keeps per record next to the chain (an index, not the truth). The
 * verifier checks it against the links, so editing it is detected like editing a link.
 */
export interface RecordIndexRow {
  readonly id: string
  readonly startedAt: number
  readonly endedAt: number | null
  readonly principal: string | null
  readonly issuer: string | null
  readonly rule: string | null
  readonly decision: string
  readonly outcome: string
  readonly skills: readonly string[]
  readonly seqOpen: number
  readonly seqClose: number | null
}

/** The index columns derived from an opening (all but the chain positions and the outcome). */
export function indexFieldsOf(opening: AuditOpening): Pick<RecordIndexRow, 'id' | 'startedAt' | 'principal' | 'issuer' | 'rule' | 'decision' | 'skills'> {
  return {
    id: opening.id,
    startedAt: Date.parse(opening.start),
    principal: opening.principal,
    issuer: opening.issuer,
    rule: opening.rule,
    decision: opening.decision,
    skills: opening.skills,
  }
}
