import { setImmediate as nextTurn } from 'node:timers/promises'
import { genesisHash, type ChainLink } from './chain.js'
import { ChainVerifier, type VerifyReport } from './chain-verifier.js'
import type { AuditLedger } from './ledger.js'

/** Links per read; the walk yields to the event loop between pages. */
const pageSize = 500
/** Stray links and orphan records named at most, per kind. */
const strayLimit = 100

export interface LedgerVerifyOptions {
  /** Called after every page, for progress output. */
  readonly onProgress?: ((checkedLinks: number, headSeq: number) => void) | undefined
  /** Sees every walked link, in order (signed-head verification collects hashes with it). */
  readonly onLink?: ((link: ChainLink) => void) | undefined
}

/**
 * Verifies a stored chain from the genesis or the latest retention checkpoint to the stored head,
 * page by page, and names every problem (see ChainVerifier); the same walk for every store.
 */
export async function verifyLedger(ledger: AuditLedger, options: LedgerVerifyOptions = {}): Promise<VerifyReport> {
  const { head, checkpoint } = await ledger.start()
  const verifier = new ChainVerifier(checkpoint ? { ...checkpoint, checkpoint: true } : { seq: 0, hash: genesisHash, checkpoint: false })
  if (checkpoint) {
    for (const s of await ledger.linksUpTo(checkpoint.seq, strayLimit)) {
      verifier.problem('stray_link', s.seq, s.recordId, `link ${s.seq} lies at or before the retention checkpoint ${checkpoint.seq}`)
    }
  }
  for (;;) {
    const page = await ledger.linkPage(verifier.lastSeq, head.seq, pageSize)
    for (const link of page.links) {
      verifier.check(link, page.index.get(link.recordId))
      options.onLink?.(link)
    }
    options.onProgress?.(verifier.lastSeq, head.seq)
    if (page.links.length < pageSize) break
    await nextTurn()
  }
  const { beyondHead, orphans } = await ledger.strays(strayLimit)
  for (const s of beyondHead) verifier.problem('stray_link', s.seq, s.recordId, `link ${s.seq} lies beyond the stored head`)
  for (const o of orphans) {
    verifier.problem('orphan_record', o.seqOpen, o.id, `record ${o.id} is not backed by its own chain links (index says ${o.seqOpen}${o.seqClose === null ? '' : `/${o.seqClose}`})`)
  }
  return verifier.report(head)
}
