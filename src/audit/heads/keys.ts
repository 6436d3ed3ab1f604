import { createPublicKey, type JsonWebKey } from 'node:crypto'
import { tryJson } from './head.js'
import { publicKeyOf, type HeadPublicKey, type HeadSigningKey } from './jws.js'

/** The keys a verifier trusts, from what an operator has: PEM blocks or the published JWKS. */

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

/**
 * `text` is a JWKS (`{"keys":[…]}`, e.g. the body of /.well-known/skillgate-audit-keys) or one or
 * more PEM blocks (public keys, or a private key whose public half is taken). Throws naming the
 * first key that cannot be used.
 */
export function parseTrustedKeys(text: string): Map<string, HeadPublicKey> {
  const trimmed = text.trim()
  const keys = trimmed.startsWith('{') ? keysFromJwks(trimmed) : keysFromPem(trimmed)
  if (keys.length === 0) throw new Error('no audit head keys found (expected PEM or a JWKS)')
  return new Map(keys.map((k) => [k.kid, k]))
}

function keysFromJwks(text: string): HeadPublicKey[] {
  const parsed = tryJson(text)
  if (parsed === undefined) throw new Error('key file starts like JSON but is not JSON')
  const list = (parsed as { keys?: unknown }).keys
  if (!Array.isArray(list)) throw new Error('key file is JSON but not a JWKS ({"keys": […]})')
  return list.map((jwk: unknown, i) => {
    try {
      const { d: _private, ...pub } = jwk as JsonWebKey
      return publicKeyOf(createPublicKey({ key: pub, format: 'jwk' }))
    } catch (error) {
      throw new Error(`JWKS key ${i}: ${(error as Error).message}`)
    }
  })
}

function keysFromPem(text: string): HeadPublicKey[] {
  return [...text.matchAll(pemBlock)].map((m, i) => {
    try {
      return publicKeyOf(createPublicKey(m[0]))
    } catch (error) {
      throw new Error(`PEM block ${i + 1} (${m[1] ?? '?'}): ${(error as Error).message}`)
    }
  })
}

/** The JWKS to publish: the signing key's public half first, then `audit.signing.previousKeys`. */
export function publicJwks(signing: HeadSigningKey, previous: readonly HeadPublicKey[]): { keys: JsonWebKey[] } {
  const seen = new Set<string>()
  const keys = [signing, ...previous].filter((k) => !seen.has(k.kid) && seen.add(k.kid))
  return { keys: keys.map((k) => k.jwk) }
}
