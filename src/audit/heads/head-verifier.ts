import { genesisHash } from '../chain.js'
import type { VerifyReport } from '../chain-verifier.js'
import type { HeadInput } from './heads-file.js'
import type { HeadPayload } from './head.js'
import { openHead, type HeadPublicKey } from './jws.js'

/**
 * Judges signed heads against what the store's chain walk found. Pure: `verifyWithHeads`
 * (verify.ts) feeds it the heads, the trusted keys, and the chain's start, end and link hashes at
 * the heads' positions. A head vouches for the whole chain up to its position, so:
 * - a head beyond the store's end means newer records were cut off (or an older backup is in use),
 *   unless a later restore head declares those positions lost;
 * - a head at or before the retention checkpoint means the records it covers were removed, which
 *   only a signed checkpoint head makes legitimate, and only if the head is older than what the
 *   checkpoint removed: links after a head were written after it was signed;
 * - a head whose hash is not the link hash at its position means the chain was rewritten.
 */

export type HeadProblemKind =
  /** Not a head, not signed by a trusted key, or a bad signature. */
  | 'head_signature'
  /** The store ends before the head's position: records were cut off the end. */
  | 'head_beyond_store'
  /** The link at the head's position is missing or has another hash. */
  | 'head_not_on_chain'
  /** Records a head covers were removed behind a checkpoint no checkpoint head signed. */
  | 'unsigned_checkpoint'
  /** A signed checkpoint removed links written after a head it covers was signed: records newer than its retention time. */
  | 'checkpoint_too_new'
  /** The head's RFC 3161 timestamp is not over this head, not validly signed, or not from the trusted TSA. */
  | 'head_timestamp'

/** How far apart the clocks of two writers (replicas) may be: a head is signed just after its writer's commit. */
const writerClockSkewMs = 5 * 60_000

export interface HeadProblem {
  readonly kind: HeadProblemKind
  readonly position: number | null
  readonly source: string
  readonly detail: string
}

export interface SignedHead extends HeadPayload {
  readonly source: string
  readonly kid: string
  /** The compact JWS itself (what an RFC 3161 timestamp is over). */
  readonly jws: string
}

export interface DeclaredGap {
  readonly from: number
  readonly to: number | null
  readonly source: string
  readonly time: string
}

export interface HeadReport {
  readonly ok: boolean
  /** Distinct heads read (file and store together). */
  readonly heads: number
  readonly problems: readonly HeadProblem[]
  readonly warnings: readonly string[]
  readonly gaps: readonly DeclaredGap[]
  /** The newest head (by position) that verified, or null. */
  readonly latest: SignedHead | null
  /** Links after `latest` that no head covers yet. */
  readonly uncovered: number
}

export interface ChainFacts extends Pick<VerifyReport, 'from' | 'head'> {
  /** The link hash at `seq` as the walk found it; undefined when the walk saw no such link. */
  hashAt(seq: number): string | undefined
}

/** Verifies signatures; duplicates (the same JWS in a file and in the store) count once. */
export function openHeads(inputs: readonly HeadInput[], keys: ReadonlyMap<string, HeadPublicKey>): { heads: SignedHead[]; problems: HeadProblem[] } {
  const seen = new Set<string>()
  const heads: SignedHead[] = []
  const problems: HeadProblem[] = []
  for (const input of inputs) {
    if (seen.has(input.jws)) continue
    seen.add(input.jws)
    const opened = openHead(input.jws, keys)
    if (opened.ok) heads.push({ ...opened.payload, source: input.source, kid: opened.kid, jws: input.jws })
    else problems.push({ kind: 'head_signature', position: null, source: input.source, detail: `${input.source}: ${opened.reason}` })
  }
  return { heads: heads.sort((a, b) => a.position - b.position || Date.parse(a.time) - Date.parse(b.time)), problems }
}

export function judgeHeads(heads: readonly SignedHead[], signatureProblems: readonly HeadProblem[], chain: ChainFacts): HeadReport {
  const problems: HeadProblem[] = [...signatureProblems]
  const restores = heads.filter((h) => h.event === 'restore')
  const { from, head: end } = chain
  const checkpointHead = from.checkpoint ? heads.find((h) => h.event === 'checkpoint' && h.position === from.seq && h.hash === from.hash) : undefined
  const checkpointSigned = checkpointHead !== undefined
  const removedBefore = checkpointHead?.before === undefined ? undefined : Date.parse(checkpointHead.before)
  const lostTo = (h: SignedHead) => restores.some((r) => Date.parse(r.time) > Date.parse(h.time) && h.position > r.position && (r.lost?.to == null || h.position <= r.lost.to))
  const fail = (kind: HeadProblemKind, h: SignedHead, detail: string) =>
    problems.push({ kind, position: h.position, source: h.source, detail: `head at position ${h.position} (${h.source}, signed ${h.time} by ${h.writer}): ${detail}` })
  let latest: SignedHead | null = null
  for (const h of heads) {
    const removed = from.checkpoint && h.position <= from.seq
    if (h.position > end.seq) {
      if (!lostTo(h)) fail('head_beyond_store', h, `the store ends at position ${end.seq}; the records after it were removed or this is an older copy of the store`)
      continue
    }
    if (removed && !checkpointSigned) {
      fail('unsigned_checkpoint', h, `the records it covers were removed behind the unsigned checkpoint at position ${from.seq}`)
      continue
    }
    if (removed && h.position < from.seq) {
      // Covered by the signed checkpoint, its links gone on purpose, if they were older than this head.
      if (removedBefore !== undefined && Date.parse(h.time) > removedBefore + writerClockSkewMs) {
        fail('checkpoint_too_new', h, `the checkpoint at position ${from.seq} removed records committed before ${checkpointHead?.before}, but links after this head were written after it was signed`)
      }
      continue
    }
    const actual = h.position === from.seq ? from.hash : h.position === 0 ? genesisHash : chain.hashAt(h.position)
    if (actual === h.hash) {
      latest = h
      continue
    }
    if (lostTo(h)) continue
    fail('head_not_on_chain', h, actual === undefined ? `link ${h.position} is missing from the store` : `the store's link ${h.position} has another hash: the chain was rewritten`)
  }
  const warnings: string[] = []
  if (from.checkpoint && !checkpointSigned && !problems.some((p) => p.kind === 'unsigned_checkpoint')) {
    warnings.push(`the retention checkpoint at position ${from.seq} is unsigned: made before head signing was enabled (no head covers the records before it)`)
  }
  problems.sort((a, b) => (a.position ?? -1) - (b.position ?? -1))
  const gaps = restores.map((r) => ({ from: r.lost?.from ?? r.position + 1, to: r.lost?.to ?? null, source: r.source, time: r.time }))
  return { ok: problems.length === 0, heads: heads.length, problems, warnings, gaps, latest, uncovered: end.seq - (latest?.position ?? 0) }
}
