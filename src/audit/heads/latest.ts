import { genesisHash } from '../chain.js'
import type { AuditStore } from '../../storage/ports.js'
import type { HeadEvent } from './head.js'
import { openHead, type HeadPublicKey } from './jws.js'
import type { TsaTrust } from '../timestamp/index.js'
import { verifyHeadTimestamp } from './timestamps.js'

/**
 * The console's one line about signed heads: the newest head the store kept, and whether it still
 * verifies against the running gateway's keys and the store's chain as it is now. A quick check of
 * one head, not `audit verify --heads` (which needs the outside copy to see truncation).
 */
export interface LatestHeadStatus {
  readonly head: { readonly position: number; readonly time: string; readonly writer: string; readonly event: HeadEvent | null } | null
  readonly verifies: boolean
  readonly detail: string
  /**
   * With `audit.timestamping`: the head's RFC 3161 token checked against the TSA's CA (its time and
   * TSA), or null when the head has none (yet). Absent when timestamping is off.
   */
  readonly timestamp?: { readonly time: string; readonly tsa: string; readonly verifies: boolean; readonly detail: string } | { readonly time: null; readonly tsa: null; readonly verifies: false; readonly detail: string }
}

export async function latestHeadStatus(
  store: Pick<AuditStore, 'latestHead' | 'linkHash' | 'chainHead'>,
  keys: ReadonlyMap<string, HeadPublicKey> | undefined,
  tsaTrust?: TsaTrust,
): Promise<LatestHeadStatus> {
  const stored = await store.latestHead()
  if (stored === undefined) return { head: null, verifies: false, detail: keys ? 'no signed head yet' : 'audit.signing is off: no heads are signed' }
  const head = { position: stored.position, time: new Date(stored.time).toISOString(), writer: stored.writer, event: stored.event }
  const result: LatestHeadStatus = { head, ...(await signatureStatus(store, stored.jws, keys)) }
  if (tsaTrust === undefined) return result
  return { ...result, timestamp: await trustedTime(stored.jws, stored.timestamp ?? undefined, tsaTrust) }
}

async function trustedTime(jws: string, token: string | undefined, trust: TsaTrust): Promise<NonNullable<LatestHeadStatus['timestamp']>> {
  if (token === undefined) return { time: null, tsa: null, verifies: false, detail: 'this head has no RFC 3161 timestamp (the TSA has not answered, or was unreachable)' }
  const check = await verifyHeadTimestamp(jws, token, trust)
  if (!check.ok) return { time: null, tsa: null, verifies: false, detail: `its RFC 3161 timestamp does not verify: ${check.reason}` }
  return { time: check.time.toISOString(), tsa: check.tsa, verifies: true, detail: 'timestamp valid for this head and chains to audit.timestamping.trust' }
}

async function signatureStatus(store: Pick<AuditStore, 'linkHash' | 'chainHead'>, jws: string, keys: ReadonlyMap<string, HeadPublicKey> | undefined): Promise<Pick<LatestHeadStatus, 'verifies' | 'detail'>> {
  if (keys === undefined) return { verifies: false, detail: 'audit.signing is off: no key to check the head with' }
  const opened = openHead(jws, keys)
  if (!opened.ok) return { verifies: false, detail: opened.reason }
  const { position, hash } = opened.payload
  const end = await store.chainHead()
  if (position > end.seq) return { verifies: false, detail: `the store ends at position ${end.seq}, before the head` }
  const actual = position === 0 ? genesisHash : await store.linkHash(position)
  if (actual === undefined) return { verifies: false, detail: `link ${position} is not in the store (removed by retention, or deleted)` }
  if (actual !== hash) return { verifies: false, detail: `link ${position} has another hash than the head signed` }
  return { verifies: true, detail: `signature valid and link ${position} matches` }
}
