import type { ChainHead } from '../audit/chain.js'
import type { StoredHead } from '../audit/heads/head.js'
import { latestCheckpoint, readHead } from './audit-ledger.js'
import { insertHead } from './audit-heads.js'
import { StorageError } from './errors.js'
import type { PruneResult } from './ports.js'
import type { Dialect } from './sql/db.js'
import { get, run, type Step } from './sql/step.js'

/**
 * Retention, inside a write transaction holding the chain lock: removes a prefix of the chain and
 * records a checkpoint (position and hash of the last removed link) so the remainder still verifies.
 * With `signCheckpoint` (audit.signing), the checkpoint head is signed and stored in the same
 * transaction: a crash can never leave a checkpoint that verify would take for a forged one.
 */
export function* pruneSteps(d: Dialect, before: number, createdAt: number, signCheckpoint?: (checkpoint: ChainHead) => StoredHead): Step<PruneResult> {
  const head = yield* readHead(d, true)
  const latest = yield* latestCheckpoint()
  const cut = yield* pruneCut(head.seq, before)
  if (cut <= (latest?.seq ?? 0)) return { removed: 0, checkpoint: latest }
  const last = yield* get<{ hash: string }>('SELECT hash FROM audit_chain WHERE seq = ?', [cut])
  if (last === undefined) throw new StorageError('conflict', `audit link ${cut} is missing; run audit verify before pruning`)
  const removed = yield* run('DELETE FROM audit_records WHERE seq_open <= ?', [cut])
  yield* run('DELETE FROM audit_chain WHERE seq <= ?', [cut])
  yield* run('INSERT INTO audit_checkpoints (seq, hash, created_at, before_at, removed) VALUES (?, ?, ?, ?, ?)', [cut, last.hash, createdAt, before, removed])
  const checkpoint = { seq: cut, hash: last.hash }
  const signed = signCheckpoint?.(checkpoint)
  if (signed !== undefined) yield* insertHead(signed)
  return { removed, checkpoint, ...(signed ? { head: signed } : {}) }
}

/**
 * The largest position `cut` such that every link up to it belongs to a record that is closed,
 * ended before the retention time, and has all its links at or before `cut`: a record never loses
 * one of its two links to pruning.
 */
function* pruneCut(headSeq: number, before: number): Step<number> {
  // Smallest opening position of a record that must stay (open, or ended at/after the retention time).
  const kept = (yield* get<{ s: number | null }>(`SELECT MIN(seq_open) AS s FROM audit_records WHERE outcome = 'open' OR ended_at >= ?`, [before]))?.s ?? null
  let cut = kept === null ? headSeq : kept - 1
  for (;;) {
    // Smallest opening position of a record opened at or before `cut` but closed after it.
    const straddler = cut > 0 ? ((yield* get<{ s: number | null }>('SELECT MIN(seq_open) AS s FROM audit_records WHERE seq_open <= ? AND seq_close > ?', [cut, cut]))?.s ?? null) : null
    if (straddler === null) return cut
    cut = straddler - 1
  }
}
