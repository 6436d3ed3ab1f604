import { createHash, createPrivateKey, webcrypto } from 'node:crypto'
import * as asn1js from 'asn1js'
import {
  Attribute,
  Certificate,
  ContentInfo,
  CryptoEngine,
  EncapsulatedContentInfo,
  GeneralName,
  IssuerAndSerialNumber,
  SignedAndUnsignedAttributes,
  SignedData,
  SignerInfo,
  id_ContentType_SignedData,
  id_eContentType_TSTInfo,
} from 'pkijs'

/**
 * Signs a TSTInfo as a TSA would (RFC 3161 §2.4.2), with pkijs: SignedData holding the TSTInfo,
 * one SignerInfo (ECDSA P-256 with SHA-256, named by issuer and serial) over the signed
 * attributes contentType = id-ct-TSTInfo, messageDigest and (unless left out) an ESS
 * signing-certificate attribute, and the signer's certificate. Tests use it to make tokens
 * `openssl ts -reply` refuses to make (a certificate without the timeStamping EKU) or that no
 * TSA makes (no ESS attribute, or one naming another certificate).
 *
 * Its own crypto engine over Node's webcrypto, passed to every call: nothing here reads or sets
 * pkijs's process-wide engine (`setEngine` writes `global[process.pid]`).
 */
const engine = new CryptoEngine({ name: 'sign-tst', crypto: webcrypto as unknown as ConstructorParameters<typeof CryptoEngine>[0]['crypto'] })

const id_contentType = '1.2.840.113549.1.9.3'
const id_messageDigest = '1.2.840.113549.1.9.4'
/** id-aa-signingCertificate (RFC 2634 §5.4, ESSCertID with a SHA-1 hash). */
export const id_aa_signingCertificate = '1.2.840.113549.1.9.16.2.12'
/** id-aa-signingCertificateV2 (RFC 5035 §3, ESSCertIDv2, hash algorithm default SHA-256). */
export const id_aa_signingCertificateV2 = '1.2.840.113549.1.9.16.2.47'
const hashOids = { 'SHA-1': '1.3.14.3.2.26', 'SHA-256': '2.16.840.1.101.3.4.2.1', 'SHA-384': '2.16.840.1.101.3.4.2.2', 'SHA-512': '2.16.840.1.101.3.4.2.3' } as const
type Hash = keyof typeof hashOids

/** A TSA signer: its certificate (DER, as issued) and its P-256 private key, imported into WebCrypto. */
export interface TstSigner {
  readonly certDer: Uint8Array
  readonly cert: Certificate
  readonly key: webcrypto.CryptoKey
}

/**
 * Which ESS signing-certificate attribute to sign: `v2` (ESSCertIDv2; `hash` SHA-256 by default,
 * then the hashAlgorithm field is left out as DER wants) or `v1` (ESSCertID, SHA-1), naming
 * `names` (the signer's own certificate unless given); `none` signs no ESS attribute.
 */
export type EssChoice = { readonly version: 'v2'; readonly hash?: Exclude<Hash, 'SHA-1'>; readonly names?: Uint8Array } | { readonly version: 'v1'; readonly names?: Uint8Array } | 'none'

/** A signer from PEM texts as openssl writes them (the key as PKCS#8 or SEC1: Node converts it to PKCS#8 for WebCrypto). */
export async function loadSigner(certPem: string, keyPem: string): Promise<TstSigner> {
  const certDer = pemBody(certPem)
  const pkcs8 = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' })
  const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  return { certDer, cert: certificateOf(certDer), key }
}

/** The DER of the first certificate of a PEM text. */
export function pemBody(pem: string): Uint8Array {
  const match = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/.exec(pem)
  if (!match?.[1]) throw new Error('no PEM certificate')
  return new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'))
}

/** A TimeStampToken (ContentInfo DER) over `tstInfo` (DER, kept byte for byte), signed by `signer`. */
export async function signTstInfo(tstInfo: Uint8Array, signer: TstSigner, ess: EssChoice = { version: 'v2' }): Promise<Uint8Array> {
  const attributes = [
    new Attribute({ type: id_contentType, values: [new asn1js.ObjectIdentifier({ value: id_eContentType_TSTInfo })] }),
    new Attribute({ type: id_messageDigest, values: [new asn1js.OctetString({ valueHex: sha('SHA-256', tstInfo) })] }),
  ]
  if (ess !== 'none') attributes.push(essAttribute(ess, ess.names ?? signer.certDer))
  // DER: a SET OF in order of its members' encodings (OpenSSL verifies over the re-encoded set).
  const sorted = attributes.map((a) => ({ a, der: Buffer.from(a.toSchema().toBER()) })).sort((x, y) => Buffer.compare(x.der, y.der)).map(({ a }) => a)
  // A primitive OCTET STRING, as DER wants: given as a parameter, pkijs would cut it into a constructed (BER) one.
  const encapContentInfo = new EncapsulatedContentInfo({ eContentType: id_eContentType_TSTInfo })
  encapContentInfo.eContent = new asn1js.OctetString({ valueHex: tstInfo })
  const signed = new SignedData({
    version: 3,
    encapContentInfo,
    signerInfos: [
      new SignerInfo({
        version: 1,
        sid: new IssuerAndSerialNumber({ issuer: signer.cert.issuer, serialNumber: signer.cert.serialNumber }),
        signedAttrs: new SignedAndUnsignedAttributes({ type: 0, attributes: sorted }),
      }),
    ],
    certificates: [signer.cert],
  })
  await signed.sign(signer.key, 0, 'SHA-256', undefined, engine)
  const info = new ContentInfo({ contentType: id_ContentType_SignedData, content: signed.toSchema(true) })
  return new Uint8Array(info.toSchema().toBER())
}

/** SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2) } naming one certificate by hash, issuer and serial. */
function essAttribute(ess: Exclude<EssChoice, 'none'>, namedDer: Uint8Array): Attribute {
  const named = certificateOf(namedDer)
  const issuerSerial = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({ value: [new GeneralName({ type: 4, value: named.issuer }).toSchema()] }),
      new asn1js.Integer({ valueHex: named.serialNumber.valueBlock.valueHexView }),
    ],
  })
  if (ess.version === 'v1') {
    const certId = new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: sha('SHA-1', namedDer) }), issuerSerial] })
    return new Attribute({ type: id_aa_signingCertificate, values: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [certId] })] })] })
  }
  const hash = ess.hash ?? 'SHA-256'
  const certId = new asn1js.Sequence({
    value: [
      ...(hash === 'SHA-256' ? [] : [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: hashOids[hash] })] })]),
      new asn1js.OctetString({ valueHex: sha(hash, namedDer) }),
      issuerSerial,
    ],
  })
  return new Attribute({ type: id_aa_signingCertificateV2, values: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [certId] })] })] })
}

function certificateOf(der: Uint8Array): Certificate {
  return Certificate.fromBER(der)
}

function sha(hash: Hash, bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hash.replace('-', '').toLowerCase()).update(bytes).digest())
}
