import { createHash, createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto'
import { checkPayload, tryJson, type HeadPayload } from './head.js'

/**
 * Compact JWS (RFC 7515) for chain heads, with node:crypto only: signing is synchronous, so a
 * retention checkpoint can be signed inside SQLite's synchronous transaction that makes it. Keys
 * are Ed25519 (EdDSA) or P-256 (ES256); `kid` is the RFC 7638 thumbprint of the public key, so a
 * verifier given a JWKS or a PEM finds the key without trusting the header for anything but a name.
 */

export type HeadAlg = 'EdDSA' | 'ES256'
const headTyp = 'skillgate-audit-head+jws'

export interface HeadPublicKey {
  readonly kid: string
  readonly alg: HeadAlg
  readonly publicKey: KeyObject
  /** The public JWK with `kid`, `alg` and `use`, as published at /.well-known/skillgate-audit-keys. */
  readonly jwk: JsonWebKey
}

export interface HeadSigningKey extends HeadPublicKey {
  readonly privateKey: KeyObject
}

/** A PKCS#8 PEM private key. Throws (without echoing the key) when it is not Ed25519 or P-256. */
export function signingKeyFromPem(pem: string): HeadSigningKey {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' })
  } catch {
    throw new Error('audit signing key is not a PEM private key (expected PKCS#8 Ed25519 or P-256)')
  }
  return { ...publicKeyOf(createPublicKey(privateKey)), privateKey }
}

/** kid, alg and JWK of a public key. Throws for key types heads are not signed with. */
export function publicKeyOf(publicKey: KeyObject): HeadPublicKey {
  const alg = algOf(publicKey)
  const raw = publicKey.export({ format: 'jwk' })
  // RFC 7638: the required members, in lexicographic order, no whitespace.
  const members: Record<string, string> =
    alg === 'EdDSA' ? { crv: String(raw.crv), kty: String(raw.kty), x: String(raw.x) } : { crv: String(raw.crv), kty: String(raw.kty), x: String(raw.x), y: String(raw.y) }
  const kid = createHash('sha256').update(JSON.stringify(members)).digest('base64url')
  return { kid, alg, publicKey, jwk: { ...members, kid, alg, use: 'sig' } }
}

function algOf(key: KeyObject): HeadAlg {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  throw new Error(`audit signing keys are Ed25519 or P-256, not ${key.asymmetricKeyType ?? 'unknown'}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}`)
}

export function signHead(key: HeadSigningKey, payload: HeadPayload): string {
  const input = `${b64(JSON.stringify({ alg: key.alg, kid: key.kid, typ: headTyp }))}.${b64(JSON.stringify(payload))}`
  const signature = key.alg === 'EdDSA' ? sign(null, Buffer.from(input), key.privateKey) : sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

export type OpenedHead = { readonly ok: true; readonly kid: string; readonly payload: HeadPayload } | { readonly ok: false; readonly reason: string }

/** Verifies a head against trusted keys (by kid) and checks its payload. Never throws. */
export function openHead(jws: string, keys: ReadonlyMap<string, HeadPublicKey>): OpenedHead {
  const parts = jws.split('.')
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, reason: 'not a compact JWS' }
  const [h, p, s] = parts as [string, string, string]
  const header = tryJson(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown; typ?: unknown } | undefined
  if (header === undefined || typeof header.kid !== 'string') return { ok: false, reason: 'JWS header has no kid' }
  if (header.typ !== headTyp) return { ok: false, reason: 'JWS is not a skillgate audit head' }
  const key = keys.get(header.kid)
  if (key === undefined) return { ok: false, reason: `signed by key ${header.kid}, which is not among the trusted keys` }
  // The key decides the algorithm; a header naming another one is refused (no algorithm confusion).
  if (header.alg !== key.alg) return { ok: false, reason: `JWS alg ${String(header.alg)} does not match key ${key.kid} (${key.alg})` }
  const input = Buffer.from(`${h}.${p}`)
  const signature = Buffer.from(s, 'base64url')
  const valid = key.alg === 'EdDSA' ? verify(null, input, key.publicKey, signature) : verify('sha256', input, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature)
  if (!valid) return { ok: false, reason: `signature does not verify with key ${key.kid}` }
  const payload = checkPayload(tryJson(Buffer.from(p, 'base64url').toString('utf8')))
  return typeof payload === 'string' ? { ok: false, reason: payload } : { ok: true, kid: key.kid, payload }
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64url')
}
