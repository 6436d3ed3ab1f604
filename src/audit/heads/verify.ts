import type { VerifyReport } from '../chain-verifier.js'
import type { AuditStore, VerifyOptions } from '../../storage/ports.js'
import type { HeadInput } from './heads-file.js'
import { judgeHeads, openHeads, type HeadReport } from './head-verifier.js'
import type { HeadPublicKey } from './jws.js'
import type { TsaTrust } from '../timestamp/index.js'
import { checkTimestamps, type VerifiedTimestamp } from './timestamps.js'

export interface HeadVerifyResult {
  readonly ok: boolean
  readonly chain: VerifyReport
  readonly heads: HeadReport
  /** Heads whose RFC 3161 timestamp verified (only with a TSA CA), oldest position first. */
  readonly timestamps: readonly VerifiedTimestamp[]
}

export interface HeadVerifyOptions extends VerifyOptions {
  /** `--tsa-cert`: check each head's RFC 3161 timestamp against this CA. */
  readonly tsaTrust?: TsaTrust
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
  { tsaTrust, ...options }: HeadVerifyOptions = {},
): Promise<HeadVerifyResult> {
  const inputs = [...outside, ...(await storedHeads(store))]
  const { heads, problems } = openHeads(inputs, keys)
  const stamps = await checkTimestamps(inputs, heads, tsaTrust)
  const wanted = new Set(heads.map((h) => h.position))
  const hashes = new Map<number, string>()
  const chain = await store.verify({
    ...options,
    onLink: (link) => {
      if (wanted.has(link.seq)) hashes.set(link.seq, link.hash)
      options.onLink?.(link)
    },
  })
  const judged = judgeHeads(heads, [...problems, ...stamps.problems], { from: chain.from, head: chain.head, hashAt: (seq) => hashes.get(seq) })
  const report = { ...judged, warnings: [...judged.warnings, ...stamps.warnings] }
  return { ok: chain.ok && report.ok, chain, heads: report, timestamps: stamps.verified }
}

async function storedHeads(store: Pick<AuditStore, 'listHeads'>): Promise<HeadInput[]> {
  const inputs: HeadInput[] = []
  let after: number | undefined
  for (;;) {
    const page = await store.listHeads(after)
    inputs.push(...page.map((h) => ({ source: `store head at ${h.position}`, jws: h.jws, ...(h.timestamp ? { timestamp: h.timestamp } : {}) })))
    const last = page[page.length - 1]
    if (page.length < 10_000 || last === undefined) return inputs
    after = last.position
  }
}
