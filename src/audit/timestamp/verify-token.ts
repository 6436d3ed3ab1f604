import { createHash, webcrypto } from 'node:crypto'
import { BitString, fromBER, ObjectIdentifier, OctetString, Sequence, type AsnType } from 'asn1js'
import { ContentInfo, CryptoEngine, ExtKeyUsage, SignedData, TSTInfo, id_ContentType_SignedData, id_ExtKeyUsage, id_KeyUsage, id_eContentType_TSTInfo, id_sha1, id_sha256, id_sha384, id_sha512, setEngine, type Certificate, type SignerInfo } from 'pkijs'
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
 * is valid, the signer certificate chains to `trust` at the token's time, is reserved for
 * time-stamping (a critical extended key usage of timeStamping alone, RFC 3161 §2.3, read as
 * OpenSSL reads it; a key usage, when present, that allows signing) and is the one the signed
 * ESS signing-certificate attribute names (RFC 3161 §2.4.1, RFC 5816), so no other certificate
 * with the same key can be passed off as the signer. Never throws: a reason instead.
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
  const problem = ekuProblem(signer) ?? keyUsageProblem(signer) ?? essProblem(signed.signerInfos[0], signer)
  if (problem) return { ok: false, reason: problem }
  return { ok: true, time: tst.genTime, serial: Buffer.from(tst.serialNumber.valueBlock.valueHexView).toString('hex'), tsa: subjectOf(signer) }
}

function ekuProblem(cert: Certificate): string | undefined {
  const ext = cert.extensions?.find((e) => e.extnID === id_ExtKeyUsage)
  if (!ext) return 'the TSA certificate has no extended key usage (timeStamping required)'
  if (!ext.critical) return 'the TSA certificate\'s extended key usage is not critical (RFC 3161 §2.3)'
  const usage = ext.parsedValue instanceof ExtKeyUsage ? ext.parsedValue : undefined
  if (!usage?.keyPurposes.includes(timeStampingPurpose)) return 'the TSA certificate is not for timeStamping (extended key usage)'
  if (usage.keyPurposes.length !== 1) return 'the TSA certificate is not reserved for timeStamping (its extended key usage lists other purposes)'
  return undefined
}

/** digitalSignature (bit 0) or nonRepudiation (bit 1), when the certificate restricts its key usage at all. */
function keyUsageProblem(cert: Certificate): string | undefined {
  const ext = cert.extensions?.find((e) => e.extnID === id_KeyUsage)
  if (!ext) return undefined
  const bits = ext.parsedValue instanceof BitString ? ext.parsedValue.valueBlock.valueHexView[0] : undefined
  return bits !== undefined && (bits & 0xc0) !== 0 ? undefined : "the TSA certificate's key usage does not allow signing"
}

const signingCertificate = '1.2.840.113549.1.9.16.2.12'
const signingCertificateV2 = '1.2.840.113549.1.9.16.2.47'
const essHashes: Record<string, string> = { [id_sha1]: 'sha1', [id_sha256]: 'sha256', [id_sha384]: 'sha384', [id_sha512]: 'sha512' }

/** The signed ESS attribute's first certificate id must be the hash of the signer certificate. */
function essProblem(signerInfo: SignerInfo | undefined, cert: Certificate): string | undefined {
  const attributes = signerInfo?.signedAttrs?.attributes ?? []
  const v2 = attributes.find((a) => a.type === signingCertificateV2)
  const attribute = v2 ?? attributes.find((a) => a.type === signingCertificate)
  if (!attribute) return 'the token does not name its signing certificate (no ESS signing-certificate attribute, RFC 3161 §2.4.1)'
  const id = firstCertId(attribute.values[0] as AsnType | undefined, v2 !== undefined)
  const algorithm = id && essHashes[id.hashOid]
  if (!id || !algorithm) return "the token's ESS signing-certificate attribute cannot be read"
  const actual = createHash(algorithm).update(new Uint8Array(cert.toSchema().toBER())).digest()
  return actual.equals(id.hash) ? undefined : "the token's ESS signing-certificate attribute names another certificate"
}

/**
 * `SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }`;
 * ESSCertID is `{ certHash (SHA-1), issuerSerial? }`, ESSCertIDv2 `{ hashAlgorithm DEFAULT sha256, certHash, issuerSerial? }`.
 */
function firstCertId(value: AsnType | undefined, v2: boolean): { hashOid: string; hash: Buffer } | undefined {
  const certs = value instanceof Sequence ? value.valueBlock.value[0] : undefined
  const first = certs instanceof Sequence ? certs.valueBlock.value[0] : undefined
  if (!(first instanceof Sequence)) return undefined
  const [head, next] = first.valueBlock.value
  if (!v2) return head instanceof OctetString ? { hashOid: id_sha1, hash: Buffer.from(head.valueBlock.valueHexView) } : undefined
  if (head instanceof OctetString) return { hashOid: id_sha256, hash: Buffer.from(head.valueBlock.valueHexView) }
  const oid = head instanceof Sequence ? head.valueBlock.value[0] : undefined
  if (!(oid instanceof ObjectIdentifier) || !(next instanceof OctetString)) return undefined
  return { hashOid: oid.valueBlock.toString(), hash: Buffer.from(next.valueBlock.valueHexView) }
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
