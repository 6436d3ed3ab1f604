import { genesisHash } from '../chain.js'
import type { AuditStore } from '../../storage/ports.js'
import type { HeadEvent } from './head.js'
import { openHead, type HeadPublicKey } from './jws.js'

/**
 * The console's one line about signed heads: the newest head the store kept, and whether it still
 * verifies against the running gateway's keys and the store's chain as it is now. A quick check of
 * one head, not `audit verify --heads` (which needs the outside copy to see truncation).
 */
export interface LatestHeadStatus {
  readonly head: { readonly position: number; readonly time: string; readonly writer: string; readonly event: HeadEvent | null } | null
  readonly verifies: boolean
  readonly detail: string
}

export async function latestHeadStatus(store: Pick<AuditStore, 'latestHead' | 'linkHash' | 'chainHead'>, keys: ReadonlyMap<string, HeadPublicKey> | undefined): Promise<LatestHeadStatus> {
  const stored = await store.latestHead()
  if (stored === undefined) return { head: null, verifies: false, detail: keys ? 'no signed head yet' : 'audit.signing is off: no heads are signed' }
  const head = { position: stored.position, time: new Date(stored.time).toISOString(), writer: stored.writer, event: stored.event }
  if (keys === undefined) return { head, verifies: false, detail: 'audit.signing is off: no key to check the head with' }
  const opened = openHead(stored.jws, keys)
  if (!opened.ok) return { head, verifies: false, detail: opened.reason }
  const { position, hash } = opened.payload
  const end = await store.chainHead()
  if (position > end.seq) return { head, verifies: false, detail: `the store ends at position ${end.seq}, before the head` }
  const actual = position === 0 ? genesisHash : await store.linkHash(position)
  if (actual === undefined) return { head, verifies: false, detail: `link ${position} is not in the store (removed by retention, or deleted)` }
  if (actual !== hash) return { head, verifies: false, detail: `link ${position} has another hash than the head signed` }
  return { head, verifies: true, detail: `signature valid and link ${position} matches` }
}
