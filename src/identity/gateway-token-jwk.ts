/**
 * One gateway signing key as the key rings hold it: an ES256 (P-256) key pair with its RFC 7638
 * thumbprint as `kid` and its creation time. Stored (file or sealed store row) as a private JWK
 * `{"kty":"EC","crv":"P-256","x","y","d","kid","alg":"ES256","use":"sig","created_at":<s>}`.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'

export interface RingKey {
  readonly kid: string
  /** ms since epoch. */
  readonly createdAt: number
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly privateJwk: JWK
  readonly publicJwk: JWK
}

const KID = /^[A-Za-z0-9_-]{1,128}$/

/** Key i ≥ 1 signed tokens until key i−1 was created: it stays published until they have expired. */
export function retainedKeys<K extends { readonly createdAt: number }>(list: readonly K[], retainMs: number, now: number, max: number): K[] {
  return list.filter((_, i) => i === 0 || now < (list[i - 1] as K).createdAt + retainMs).slice(0, max)
}

export async function generateRingKey(createdAt: number): Promise<RingKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(privateKey)
  // RFC 7638 thumbprint as kid: stable, unique per key, and in the verifier's kid charset.
  const kid = await calculateJwkThumbprint(jwk)
  return importRingKey({ ...jwk, kid, alg: 'ES256', use: 'sig', created_at: Math.floor(createdAt / 1000) })
}

/**
 * The re-read a ring does when a token names a kid it does not hold: at most once per `cooldownMs`
 * (a forged kid costs one read per window), and calls that arrive while one is under way wait for
 * it — tokens of a new key come together (a client's parallel calls) and must not be refused
 * inside the cooldown. `read` is the ring's own read, started after the call, so a read begun
 * before the sibling's rotation committed never answers for it.
 */
export function rereadOnUnknownKid(read: () => Promise<void>, cooldownMs: number): (holds: () => boolean) => Promise<void> {
  let last = Number.NEGATIVE_INFINITY
  let underway: Promise<void> | undefined
  return async (holds) => {
    if (!holds() && underway !== undefined) await underway
    if (holds() || Date.now() - last < cooldownMs) return
    last = Date.now()
    underway = read().finally(() => {
      underway = undefined
    })
    await underway
  }
}

export async function importRingKey(jwk: JWK & { created_at?: unknown }): Promise<RingKey> {
  const { kty, crv, x, y, d, kid, created_at: created } = jwk
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string' || typeof d !== 'string') {
    throw new Error('gateway signing key file: every key must be a private EC P-256 JWK')
  }
  if (typeof kid !== 'string' || !KID.test(kid)) throw new Error('gateway signing key file: every key needs a base64url kid')
  if (typeof created !== 'number' || !Number.isFinite(created)) throw new Error('gateway signing key file: created_at must be a number')
  const publicJwk: JWK = { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' }
  const privateJwk = { ...publicJwk, d, created_at: created } as JWK
  const [privateKey, publicKey] = await Promise.all([importJWK({ kty, crv, x, y, d }, 'ES256'), importJWK({ kty, crv, x, y }, 'ES256')])
  if (!isCryptoKey(privateKey) || !isCryptoKey(publicKey)) throw new Error('gateway signing key file: unusable key')
  return { kid, createdAt: created * 1000, privateKey, publicKey, privateJwk, publicJwk }
}

function isCryptoKey(key: unknown): key is CryptoKey {
  return typeof key === 'object' && key !== null && !(key instanceof Uint8Array)
}

