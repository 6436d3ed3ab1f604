import { createHash } from 'node:crypto'

/** Longest `iss`/`jti` a gateway token's `src` carries as it is; longer ones are carried hashed. */
export const MAX_SOURCE_VALUE_CHARS = 256
const HASHED_PREFIX = 'sha256:'

/**
 * The form in which a gateway token names its source's `iss` or `jti`: the value itself up to 256
 * characters, else `sha256:` and its base64url SHA-256. Revocation compares this same form, so a
 * revoked 300-character `jti` still catches the gateway tokens minted from it.
 * @example sourceValue('a'.repeat(300)) // 'sha256:…' (50 characters)
 */
export function sourceValue(value: string, maxChars = MAX_SOURCE_VALUE_CHARS): string {
  if (value.length <= maxChars) return value
  return HASHED_PREFIX + createHash('sha256').update(value, 'utf8').digest('base64url')
}
