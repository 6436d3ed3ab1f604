/**
 * Shape checks for a JSON Web Key Set (RFC 7517 §5) before it is trusted. jose checks the shape too
 * and refuses private keys when it imports one; these checks run earlier so a broken set is refused
 * as a whole when it is loaded (boot for inline keys, reload for files and remote sets) instead of
 * failing token by token.
 */
import type { JSONWebKeySet, JWK } from 'jose'
import { KeySourceError } from './fetch-policy.js'

/** Members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Returns the set when every member is a public key object.
 * @example parseJwks({ keys: [{ kty: 'EC', crv: 'P-256', x, y, kid: 'k1' }] }, 'inline keys')
 */
export function parseJwks(value: unknown, what: string): JSONWebKeySet {
  if (!isPlainObject(value) || !Array.isArray(value.keys)) {
    throw new KeySourceError(`${what} is not a JSON Web Key Set`)
  }
  const keys: JWK[] = []
  for (const key of value.keys as unknown[]) {
    if (!isPlainObject(key) || typeof key.kty !== 'string') throw new KeySourceError(`${what} has a malformed key`)
    if (PRIVATE_MEMBERS.some((member) => member in key)) {
      throw new KeySourceError(`${what} contains private or symmetric key material`)
    }
    keys.push(key as JWK)
  }
  return { keys }
}
