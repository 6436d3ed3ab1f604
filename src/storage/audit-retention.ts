import { genesisHash, type ChainHead, type ChainLink } from '../audit/chain.js'
import type { StoredHead } from '../audit/heads/head.js'
import { latestCheckpoint, readHead } from './audit-ledger.js'
import { insertHead } from './audit-heads.js'
import { StorageError } from './errors.js'
import type { PruneResult } from './ports.js'
import type { Dialect } from './sql/db.js'
import { all, run, type Step } from './sql/step.js'

/** A removed checkpoint as signed: the position and hash of the last removed link, and the retention time it removed up to. */
export type SignableCheckpoint = ChainHead & { readonly before: number }

/**
 * Retention, inside a write transaction holding the chain lock: removes a prefix of the chain and
 * records a checkpoint (position and hash of the last removed link) so the remainder still verifies.
 * With `signCheckpoint` (audit.signing), the checkpoint head is signed and stored in the same
 * transaction: a crash can never leave a checkpoint that verify would take for a forged one.
 */
export function* pruneSteps(d: Dialect, before: number, createdAt: number, signCheckpoint?: (checkpoint: SignableCheckpoint) => StoredHead): Step<PruneResult> {
  const head = yield* readHead(d, true)
  const latest = yield* latestCheckpoint()
  const cut = yield* pruneCut(latest ?? { seq: 0, hash: genesisHash }, head.seq, before)
  if (cut === undefined) return { removed: 0, checkpoint: latest }
  yield* run('DELETE FROM audit_records WHERE seq_open <= ?', [cut.seq])
  yield* run('DELETE FROM audit_chain WHERE seq <= ?', [cut.seq])
  yield* run('INSERT INTO audit_checkpoints (seq, hash, created_at, before_at, removed) VALUES (?, ?, ?, ?, ?)', [cut.seq, cut.hash, createdAt, before, cut.records])
  const checkpoint = { seq: cut.seq, hash: cut.hash }
  const signed = signCheckpoint?.({ ...checkpoint, before })
  if (signed !== undefined) yield* insertHead(signed)
  return { removed: cut.records, checkpoint, ...(signed ? { head: signed } : {}) }
}

/** Links read per statement while looking for the cut. */
const pageSize = 5_000

/** A link without its body: the walk needs positions, kinds, times and hashes only. */
type WalkedLink = Omit<ChainLink, 'body'>

/**
 * The cut, found by walking the links themselves from the last checkpoint, never the index table
 * (which a hand in the store could rewrite to make the gateway delete, and sign a checkpoint over,
 * records that are not old): the largest position up to which every link was committed before
 * `before` and every record opened is also closed, so a record never loses one of its two links.
 * A gap, a link that does not follow the one before it, or a record closed without its opening
 * stops the prune: `audit verify` says what is wrong.
 */
function* pruneCut(from: ChainHead, headSeq: number, before: number): Step<{ seq: number; hash: string; records: number } | undefined> {
  const open = new Set<string>()
  let cut: { seq: number; hash: string; records: number } | undefined
  let closed = 0
  let last: ChainHead = from
  for (;;) {
    const links = yield* all<WalkedLink>(
      'SELECT seq, kind, record_id AS "recordId", at, prev_hash AS "prevHash", hash FROM audit_chain WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
      [last.seq, headSeq, pageSize],
    )
    for (const link of links) {
      if (link.at >= before) return cut
      if (link.seq !== last.seq + 1 || link.prevHash !== last.hash) {
        throw new StorageError('conflict', `audit link ${link.seq} does not follow link ${last.seq}; run audit verify before pruning`)
      }
      if (link.kind === 'open') open.add(link.recordId)
      else if (!open.delete(link.recordId)) throw new StorageError('conflict', `audit link ${link.seq} closes record ${link.recordId}, which was not opened after the checkpoint; run audit verify before pruning`)
      else closed += 1
      if (open.size === 0) cut = { seq: link.seq, hash: link.hash, records: closed }
      last = link
    }
    if (links.length < pageSize) return cut
  }
}
