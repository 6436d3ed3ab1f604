import type { AuditStore } from '../../storage/ports.js'
import type { StoredHead } from './head.js'
import type { HeadSigner } from './signer.js'

/**
 * `skillgate audit restore-mark`: after a store was restored from a backup, signs a head at the
 * restored chain's end stating the restore and the positions it lost (`lostTo`: the newest position
 * any head had signed, when the operator knows it; null declares every position signed before this
 * head and beyond the restored end). verify then reports a declared gap instead of tampering. The
 * head is stored; the caller prints it for the outside copy of the heads.
 */
export async function markRestore(store: Pick<AuditStore, 'chainHead' | 'saveHead'>, signer: Pick<HeadSigner, 'sign'>, lostTo: number | null): Promise<StoredHead> {
  const end = await store.chainHead()
  if (lostTo !== null && lostTo <= end.seq) throw new Error(`nothing is lost: the restored store already reaches position ${end.seq}`)
  const head = signer.sign(end, 'restore', { lost: { from: end.seq + 1, to: lostTo } })
  await store.saveHead(head)
  return head
}
