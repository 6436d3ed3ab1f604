import type { TimestampCheck, TsaTrust } from '../timestamp/index.js'
import type { HeadInput } from './heads-file.js'
import type { HeadProblem, SignedHead } from './head-verifier.js'

/** A head's RFC 3161 timestamp that verified: the TSA vouches the head existed at `time`. */
export interface VerifiedTimestamp {
  readonly position: number | null
  readonly source: string
  /** The TSA's time (ISO 8601). */
  readonly time: string
  readonly tsa: string
}

export interface TimestampReport {
  readonly verified: readonly VerifiedTimestamp[]
  readonly problems: readonly HeadProblem[]
  readonly warnings: readonly string[]
}

/**
 * Checks every distinct (head, timestamp) pair the inputs carry against the TSA CA: the token must
 * be over this head's JWS bytes (a token of another head fails), signed by a certificate chaining
 * to `trust`. Without `trust` nothing is checked and a warning says so; with it, heads with no
 * timestamp anywhere are a warning (the TSA may have been down), not a failure.
 */
export async function checkTimestamps(inputs: readonly HeadInput[], heads: readonly SignedHead[], trust: TsaTrust | undefined): Promise<TimestampReport> {
  const positionOf = new Map(heads.map((h) => [h.jws, h.position]))
  const seen = new Set<string>()
  const stamped = inputs.filter((input) => {
    if (input.timestamp === undefined) return false
    const key = `${input.jws}\n${input.timestamp}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  if (trust === undefined) {
    return { verified: [], problems: [], warnings: stamped.length === 0 ? [] : [`${stamped.length} head timestamp(s) not checked: pass --tsa-cert with the TSA's CA certificate`] }
  }
  const verified: VerifiedTimestamp[] = []
  const verifiedHeads = new Set<string>()
  const problems: HeadProblem[] = []
  for (const input of stamped) {
    const position = positionOf.get(input.jws) ?? null
    const check = await verifyHeadTimestamp(input.jws, input.timestamp ?? '', trust)
    if (!check.ok) {
      problems.push({ kind: 'head_timestamp', position, source: input.source, detail: `head at position ${position ?? '?'} (${input.source}): its RFC 3161 timestamp does not verify: ${check.reason}` })
      continue
    }
    // One entry per head, though each copy's token (file, store) is checked.
    if (verifiedHeads.has(input.jws)) continue
    verifiedHeads.add(input.jws)
    verified.push({ position, source: input.source, time: check.time.toISOString(), tsa: check.tsa })
  }
  const withToken = new Set(stamped.map((s) => s.jws))
  const missing = heads.filter((h) => !withToken.has(h.jws))
  const warnings = missing.length === 0 ? [] : [`${missing.length} head(s) carry no RFC 3161 timestamp (first: position ${missing[0]?.position} from ${missing[0]?.source}): the TSA was unreachable or timestamping was off when they were signed`]
  verified.sort((a, b) => (a.position ?? -1) - (b.position ?? -1))
  return { verified, problems, warnings }
}

/** Checks a head's token (DER, base64) against the TSA CA: it must be over the JWS bytes. */
export async function verifyHeadTimestamp(jws: string, token: string, trust: TsaTrust): Promise<TimestampCheck> {
  // The ASN.1 and PKI libraries load when there is a timestamp to check, not with every gateway.
  const { verifyTimestampToken } = await import('../timestamp/index.js')
  return verifyTimestampToken(new Uint8Array(Buffer.from(token, 'base64')), new Uint8Array(Buffer.from(jws, 'ascii')), trust)
}
