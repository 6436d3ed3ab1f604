/**
 * Steps 1–3 of the strict verifier (workload-identity.md §2.2): size limits before any parsing, the
 * compact JWS shape, and canonical base64url. After these steps one token has exactly one string
 * form, which is what revocation and single-use keys rely on (§6).
 */
import { TokenError } from './types.js'

export const DEFAULT_MAX_TOKEN_BYTES = 8 * 1024
/** Upper bound for `maxTokenBytes`; exchange assertions need 16 KiB (Claude WIF limit). */
export const MAX_TOKEN_BYTES_LIMIT = 64 * 1024
export const MAX_HEADER_SEGMENT_CHARS = 1024

/** Decoded segments of a compact JWS; `signature` is only checked, jose decodes it again. */
export interface CompactParts {
  readonly headerBytes: Uint8Array
  readonly payloadBytes: Uint8Array
}

const BASE64URL = /^[A-Za-z0-9_-]+$/

/**
 * Checks size, shape and encoding and returns the decoded header and payload bytes.
 * @example splitCompact('eyJ...', 8192) // { headerBytes, payloadBytes }
 */
export function splitCompact(token: unknown, maxTokenBytes: number): CompactParts {
  if (typeof token !== 'string' || token.length === 0) {
    throw new TokenError('malformed', { detail: 'token is not a non-empty string' })
  }
  // Step 1. For ASCII (the only alphabet step 3 accepts) chars == bytes; any non-ASCII char makes
  // the byte length larger than `length`, and is rejected as malformed below anyway.
  if (token.length > maxTokenBytes) throw new TokenError('too_large', { detail: 'token size' })
  // Step 2, first half. JSON serialization (RFC 7515 §7.2) is never accepted (CVE-2022-39227
  // polyglots); checked before the header limit, which only means something for compact tokens.
  if (token.charCodeAt(0) === 0x7b /* { */) {
    throw new TokenError('malformed', { detail: 'JWS JSON serialization' })
  }
  const firstDot = token.indexOf('.')
  const headerChars = firstDot === -1 ? token.length : firstDot
  if (headerChars > MAX_HEADER_SEGMENT_CHARS) {
    throw new TokenError('too_large', { detail: 'header segment size' })
  }
  const segments = token.split('.')
  if (segments.length === 5) throw new TokenError('malformed', { detail: 'JWE compact serialization' })
  if (segments.length !== 3) throw new TokenError('malformed', { detail: 'segment count' })
  const [header, payload, signature] = segments as [string, string, string]
  if (header === '' || payload === '' || signature === '') {
    throw new TokenError('malformed', { detail: 'empty segment' })
  }
  assertCanonical(signature, 'signature')
  return {
    headerBytes: decodeCanonical(header, 'header'),
    payloadBytes: decodeCanonical(payload, 'payload'),
  }
}

/** Step 3 for one segment: RFC 7515 §2 base64url without padding, and nothing else. */
function decodeCanonical(segment: string, label: string): Uint8Array {
  const bytes = assertCanonical(segment, label)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function assertCanonical(segment: string, label: string): Buffer {
  // `length % 4 === 1` cannot encode whole bytes; padding, whitespace and `+/` fail the alphabet.
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) {
    throw new TokenError('malformed', { detail: `${label} is not base64url` })
  }
  const bytes = Buffer.from(segment, 'base64url')
  // Re-encoding must reproduce the input: rejects non-zero spare bits in the last character, which
  // Node's decoder (and jose's `atob` fallback on Node 20) silently ignore (catalogue #38).
  if (bytes.toString('base64url') !== segment) {
    throw new TokenError('malformed', { detail: `${label} is not canonical base64url` })
  }
  return bytes
}
