import type { Detector } from './detector.js'

/** Recent header verdicts: every candidate end of one token shares its header (bounded memo). */
const verdicts = new Map<string, boolean>()
const MEMO_SIZE = 64

function headerHasAlg(header: string): boolean {
  const json = Buffer.from(header, 'base64url').toString('utf8')
  // Cheap shape check first: a thrown JSON.parse costs microseconds, and garbage is the common case.
  if (!json.startsWith('{') || !json.endsWith('}')) return false
  try {
    const parsed: unknown = JSON.parse(json)
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as { alg?: unknown }).alg === 'string'
  } catch {
    return false
  }
}

/** The header must decode to a JSON object with an `alg` (RFC 7515 §4.1.1): cuts look-alikes. */
export function jwtHeaderValid(token: string): boolean {
  const header = token.slice(0, token.indexOf('.'))
  let verdict = verdicts.get(header)
  if (verdict === undefined) {
    verdict = headerHasAlg(header)
    if (verdicts.size >= MEMO_SIZE) verdicts.clear()
    verdicts.set(header, verdict)
  }
  return verdict
}

/**
 * Compact JWS/JWT: base64url(`{"…`) = `eyJ…` for header and payload, then a signature (empty for
 * `alg: none`). 8 KiB covers the largest tokens identity providers issue.
 */
export const jwt: Detector = {
  name: 'jwt',
  description: 'JSON Web Tokens (eyJ….eyJ….signature)',
  regex: '\\beyJ[A-Za-z0-9_-]+\\.eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*',
  maxLength: 8192,
  validate: jwtHeaderValid,
}
