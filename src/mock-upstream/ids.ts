/**
 * Anthropic-looking identifiers (`msg_01…`, `toolu_01…`). Random bytes come from a pooled buffer so the
 * hot path (several ids per message) does not call into the CSPRNG for every id.
 */
import { randomFillSync } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const pool = Buffer.alloc(4096)
let poolOffset = pool.length

function randomBase62(length: number): string {
  if (poolOffset + length > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  let out = ''
  for (let i = 0; i < length; i++) {
    // 62 does not divide 256; the slight bias is irrelevant for mock ids.
    out += ALPHABET[(pool[poolOffset + i] ?? 0) % 62]
  }
  poolOffset += length
  return out
}

/** `prefix_01` + 22 base62 characters, the shape of real message, tool-use and batch ids. */
export function newId(prefix: string): string {
  return `${prefix}_01${randomBase62(22)}`
}

/** Every mock response carries `request-id: req_mock_…` so tests can tell mock ids from real ones. */
export function newRequestId(): string {
  return `req_mock_${randomBase62(24)}`
}

/** Federation access tokens: the `sk-ant-oat01-` prefix of real OAuth tokens, then `mock-`. */
export function newAccessToken(): string {
  return `sk-ant-oat01-mock-${randomBase62(43)}`
}
