import type { VerifyReport } from '../chain-verifier.js'
import type { AuditStore, VerifyOptions } from '../../storage/ports.js'
import type { HeadInput } from './heads-file.js'
import { judgeHeads, openHeads, type HeadReport } from './head-verifier.js'
import type { HeadPublicKey } from './jws.js'

export interface HeadVerifyResult {
  readonly ok: boolean
  readonly chain: VerifyReport
  readonly heads: HeadReport
}

/**
 * `audit verify --heads`: the chain walk of every store, plus the signed heads from outside the
 * store and those the store kept (they are only trusted for their signatures; removing rows from
 * `audit_heads` hides nothing that the outside copy shows).
 */
export async function verifyWithHeads(
  store: Pick<AuditStore, 'verify' | 'listHeads'>,
  outside: readonly HeadInput[],
  keys: ReadonlyMap<string, HeadPublicKey>,
  options: VerifyOptions = {},
): Promise<HeadVerifyResult> {
  const inputs = [...outside, ...(await storedHeads(store))]
  const { heads, problems } = openHeads(inputs, keys)
  const wanted = new Set(heads.map((h) => h.position))
  const hashes = new Map<number, string>()
  const chain = await store.verify({
    ...options,
    onLink: (link) => {
      if (wanted.has(link.seq)) hashes.set(link.seq, link.hash)
      options.onLink?.(link)
    },
  })
  const report = judgeHeads(heads, problems, { from: chain.from, head: chain.head, hashAt: (seq) => hashes.get(seq) })
  return { ok: chain.ok && report.ok, chain, heads: report }
}

async function storedHeads(store: Pick<AuditStore, 'listHeads'>): Promise<HeadInput[]> {
  const inputs: HeadInput[] = []
  let after: number | undefined
  for (;;) {
    const page = await store.listHeads(after)
    inputs.push(...page.map((h) => ({ source: `store head at ${h.position}`, jws: h.jws })))
    const last = page[page.length - 1]
    if (page.length < 10_000 || last === undefined) return inputs
    after = last.position
  }
}
