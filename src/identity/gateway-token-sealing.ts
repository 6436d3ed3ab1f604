/**
 * Seals gateway signing keys for the store (SPEC §8 `gatewayTokens.keyEncryption`): AES-256-GCM
 * under a key-encryption key of 32 random bytes. With several keys the first seals and every one
 * opens, so the key-encryption key can be rotated: add the new one first, keep the old one until
 * every stored key was sealed again (a rotation seals new keys only; old ones expire within
 * `rotateAfter + ttl`). Format: `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url), where the key id is
 * a short SHA-256 of the key-encryption key (it tells which key to open with, and reveals nothing
 * of a 256-bit random key). The `kid` is authenticated data: a sealed key cannot be moved to another row.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

export interface KeySealer {
  seal(kid: string, plaintext: string): string
  /** Throws (without key material) when no configured key opens it or it was altered. */
  open(kid: string, sealed: string): string
}

const VERSION = 'v1'

/**
 * Decodes one `keyEncryption` secret; throws a message fit for a config problem (never the value).
 * @example decodeKeyEncryptionKey(execSync('openssl rand -base64 32').toString())
 */
export function decodeKeyEncryptionKey(text: string): Buffer {
  const trimmed = text.trim()
  const key = Buffer.from(trimmed, 'base64')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new Error('a key-encryption key is 32 random bytes in base64 (openssl rand -base64 32)')
  }
  return key
}

/** `keys` from `decodeKeyEncryptionKey`, the sealing one first. */
export function createKeySealer(keys: readonly Buffer[]): KeySealer {
  const first = keys[0]
  if (first === undefined) throw new Error('at least one key-encryption key is needed')
  const byId = new Map(keys.map((key) => [keyId(key), key]))
  return {
    seal(kid, plaintext) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', first, iv)
      cipher.setAAD(aad(kid))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return [VERSION, keyId(first), iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
    },
    open(kid, sealed) {
      const [version, id, iv, body, tag, ...rest] = sealed.split('.')
      if (version !== VERSION || id === undefined || iv === undefined || body === undefined || tag === undefined || rest.length > 0) {
        throw new Error(`gateway signing key ${kid} is not sealed in a known format`)
      }
      const key = byId.get(id)
      if (key === undefined) throw new Error(`gateway signing key ${kid} was sealed with a key-encryption key that is not configured`)
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
        decipher.setAAD(aad(kid))
        decipher.setAuthTag(Buffer.from(tag, 'base64url'))
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
      } catch {
        throw new Error(`gateway signing key ${kid} does not open: altered, or sealed under another key-encryption key`)
      }
    },
  }
}

function keyId(key: Buffer): string {
  return createHash('sha256').update('skillgate-kek-id').update(key).digest().subarray(0, 6).toString('base64url')
}

function aad(kid: string): Buffer {
  return Buffer.from(`skillgate-gateway-key:${kid}`, 'utf8')
}
