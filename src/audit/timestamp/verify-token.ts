import { webcrypto } from 'node:crypto'
import { fromBER } from 'asn1js'
import { ContentInfo, CryptoEngine, ExtKeyUsage, SignedData, TSTInfo, id_ContentType_SignedData, id_ExtKeyUsage, id_eContentType_TSTInfo, id_sha256, id_sha384, id_sha512, setEngine, type Certificate } from 'pkijs'
import type { TsaTrust } from './trust.js'

/**
 * pkijs looks its WebCrypto up in a process-wide slot that Node never fills (it has no `self`):
 * this module fills it with Node's webcrypto once, and hands the same engine to every call so no
 * caller depends on the slot.
 */
const tsaCrypto = new CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof CryptoEngine>[0]['crypto'] })
setEngine('node', tsaCrypto)

/** What a verified RFC 3161 token states. */
export interface TimestampFacts {
  /** The TSA's time (TSTInfo genTime). */
  readonly time: Date
  /** The token's serial number, hex. */
  readonly serial: string
  /** The TSA certificate's subject, for reports. */
  readonly tsa: string
}

export type TimestampCheck = ({ readonly ok: true } & TimestampFacts) | { readonly ok: false; readonly reason: string }

const timeStampingPurpose = '1.3.6.1.5.5.7.3.8'
const strongImprints = new Set([id_sha256, id_sha384, id_sha512])

/**
 * Verifies a TimeStampToken (DER) over `data` with pkijs: one signer, TSTInfo content, the
 * imprint is the hash of `data`, the nonce is the one asked for (when given), the CMS signature
 * is valid, the signer certificate chains to `trust` at the token's time and carries the
 * critical timeStamping extended key usage (RFC 3161 §2.3). Never throws: a reason instead.
 */
export async function verifyTimestampToken(token: Uint8Array, data: Uint8Array, trust: TsaTrust, nonce?: Uint8Array): Promise<TimestampCheck> {
  try {
    return await check(token, data, trust, nonce)
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) }
  }
}

async function check(token: Uint8Array, data: Uint8Array, trust: TsaTrust, nonce: Uint8Array | undefined): Promise<TimestampCheck> {
  const asn = fromBER(token)
  if (asn.offset === -1) return { ok: false, reason: 'the token is not DER' }
  const info = new ContentInfo({ schema: asn.result })
  if (info.contentType !== id_ContentType_SignedData) return { ok: false, reason: 'the token is not CMS SignedData' }
  const signed = new SignedData({ schema: info.content })
  if (signed.encapContentInfo.eContentType !== id_eContentType_TSTInfo || signed.encapContentInfo.eContent === undefined) {
    return { ok: false, reason: 'the token does not carry a TSTInfo' }
  }
  if (signed.signerInfos.length !== 1) return { ok: false, reason: `the token has ${signed.signerInfos.length} signers (RFC 3161 wants one)` }
  const tst = TSTInfo.fromBER(signed.encapContentInfo.eContent.valueBlock.valueHexView)
  // The gateway asks for SHA-256; a verifier accepts no weaker imprint (a SHA-1 one could be made to fit another head).
  if (!strongImprints.has(tst.messageImprint.hashAlgorithm.algorithmId)) return { ok: false, reason: `the token's imprint uses ${tst.messageImprint.hashAlgorithm.algorithmId}, not SHA-256/384/512` }
  if (!(await tst.verify({ data: toArrayBuffer(data) }, tsaCrypto))) return { ok: false, reason: 'the token is over other data (message imprint does not match)' }
  if (nonce !== undefined && (tst.nonce === undefined || !sameBytes(tst.nonce.valueBlock.valueHexView, nonce))) {
    return { ok: false, reason: 'the token does not answer this request (nonce does not match)' }
  }
  const result = await signed.verify({ signer: 0, data: toArrayBuffer(data), trustedCerts: [...trust], checkChain: true, extendedMode: true }, tsaCrypto)
  if (result.signatureVerified !== true) return { ok: false, reason: 'the TSA signature does not verify' }
  const signer = result.signerCertificate
  if (!signer) return { ok: false, reason: 'the token names no signer certificate' }
  const eku = ekuProblem(signer)
  if (eku) return { ok: false, reason: eku }
  return { ok: true, time: tst.genTime, serial: Buffer.from(tst.serialNumber.valueBlock.valueHexView).toString('hex'), tsa: subjectOf(signer) }
}

function ekuProblem(cert: Certificate): string | undefined {
  const ext = cert.extensions?.find((e) => e.extnID === id_ExtKeyUsage)
  if (!ext) return 'the TSA certificate has no extended key usage (timeStamping required)'
  if (!ext.critical) return 'the TSA certificate\'s extended key usage is not critical (RFC 3161 §2.3)'
  const usage = ext.parsedValue instanceof ExtKeyUsage ? ext.parsedValue : undefined
  if (!usage?.keyPurposes.includes(timeStampingPurpose)) return 'the TSA certificate is not for timeStamping (extended key usage)'
  return undefined
}

function subjectOf(cert: Certificate): string {
  return cert.subject.typesAndValues.map((t) => `${shortNames[t.type] ?? t.type}=${String(t.value.valueBlock.value)}`).join(', ')
}

const shortNames: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C' }

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}
