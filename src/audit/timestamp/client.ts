import { createHash, randomBytes } from 'node:crypto'
import { Integer, OctetString, fromBER, type Sequence } from 'asn1js'
import { AlgorithmIdentifier, MessageImprint, PKIStatus, TimeStampReq, TimeStampResp, id_sha256 } from 'pkijs'
import type { TsaTrust } from './trust.js'
import { verifyTimestampToken, type TimestampFacts } from './verify-token.js'

/** `audit.timestamping`: where to ask and whom to trust. */
export interface TimestampClientOptions {
  readonly url: string
  readonly trust: TsaTrust
  readonly timeoutMs: number
  /** Node's fetch (undici) unless a test injects one; the audit domain never imports an HTTP client itself. */
  readonly fetch?: typeof fetch
}

/** A timestamp obtained and verified: the TimeStampToken (DER, base64) and what it states. */
export interface Timestamp extends TimestampFacts {
  readonly token: string
}

/** A TSA answers with one token of a few KiB; more is not a timestamp. */
const maxResponseBytes = 256 * 1024

/**
 * Asks an RFC 3161 TSA for a timestamp over `data` (POST application/timestamp-query) and
 * verifies the answer at once — granted, over this data, answering this nonce, signed by a
 * certificate chaining to `trust` — so a head never carries a token a verifier would reject.
 * Throws an Error saying what went wrong; the caller keeps the head without a timestamp.
 */
export function createTimestampClient(options: TimestampClientOptions): (data: Uint8Array) => Promise<Timestamp> {
  const target = new URL(options.url)
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new Error('audit.timestamping.url must be http(s)')
  return async (data) => {
    const req = timestampRequest(data)
    const signal = AbortSignal.timeout(options.timeoutMs)
    const response = await (options.fetch ?? fetch)(target, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: req.der,
      signal,
      redirect: 'error',
    }).catch((error: unknown) => {
      throw new Error(`TSA ${target.host} unreachable: ${causeOf(error)}`)
    })
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new Error(`TSA ${target.host} answered HTTP ${response.status}`)
    }
    const body = await readLimited(response, maxResponseBytes).catch((error: unknown) => {
      throw new Error(`TSA ${target.host}: ${causeOf(error)}`)
    })
    const token = tokenOf(body, target.host)
    const check = await verifyTimestampToken(token, data, options.trust, req.nonce)
    if (!check.ok) throw new Error(`TSA ${target.host} answered a timestamp that does not verify: ${check.reason}`)
    return { token: Buffer.from(token).toString('base64'), time: check.time, serial: check.serial, tsa: check.tsa }
  }
}

/** An RFC 3161 TimeStampReq over SHA-256 of `data`, with a fresh 64-bit nonce and certReq (the TSA's certificate in the token). */
function timestampRequest(data: Uint8Array): { readonly der: Uint8Array; readonly nonce: Uint8Array } {
  // A positive INTEGER: the high bit clear, so the DER needs no leading zero byte and compares byte for byte.
  const nonce = randomBytes(8)
  nonce[0] = (nonce[0] ?? 0) & 0x7f | 0x01
  const request = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithmId: id_sha256 }),
      hashedMessage: new OctetString({ valueHex: createHash('sha256').update(data).digest() }),
    }),
    nonce: new Integer({ valueHex: nonce }),
    certReq: true,
  })
  return { der: new Uint8Array(request.toSchema().toBER()), nonce: new Uint8Array(nonce) }
}

/** The TimeStampToken of a granted TimeStampResp. */
function tokenOf(body: Uint8Array, host: string): Uint8Array {
  const asn = fromBER(body)
  if (asn.offset === -1) throw new Error(`TSA ${host} answered something that is not DER`)
  const resp = new TimeStampResp({ schema: asn.result })
  const status = resp.status.status
  if (status !== PKIStatus.granted && status !== PKIStatus.grantedWithMods) {
    const text = resp.status.statusStrings?.map((s) => s.valueBlock.value).join('; ')
    throw new Error(`TSA ${host} refused the request (PKIStatus ${status}${text ? `: ${text}` : ''})`)
  }
  // The token's own bytes as the TSA sent them: re-encoding could change what was signed.
  const raw = (asn.result as Sequence).valueBlock.value[1]
  if (!resp.timeStampToken || raw === undefined) throw new Error(`TSA ${host} granted the request but sent no token`)
  return new Uint8Array(raw.valueBeforeDecodeView)
}

async function readLimited(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = response.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new Error(`answer larger than ${limit} bytes`)
    }
    chunks.push(value)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

/** fetch wraps network errors in "fetch failed"; the cause says what happened (refused, timeout). */
function causeOf(error: unknown): string {
  const e = error as { message?: string; cause?: { message?: string; code?: string } }
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error)
}
