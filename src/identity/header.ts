/**
 * Steps 5–6 of the strict verifier (workload-identity.md §2.2): the protected-header allow-list and
 * the `kid` rules. jose ignores `jku`, `x5u`, `x5c`, `jwk` and `zip` but accepts them (§2.3); here
 * anything outside the allow-list is refused before a key is looked up, so a header can never make
 * the gateway fetch a URL or trust an embedded key (RFC 8725 §3.10, catalogue #11–#17).
 */
import type { JsonObject } from './strict-json.js'
import { TokenError } from './types.js'

export interface TokenHeader {
  readonly alg: string
  readonly kid: string
  readonly typ?: string
}

export const MAX_KID_LENGTH = 128
/**
 * Reference charset `[A-Za-z0-9._:@+/=-]` plus `_`: base64url thumbprint kids (oidc-provider's
 * RFC 7638 thumbprints, Entra ID) contain `_`. `kid` is only ever a map key, never a path or query.
 */
const KID_CHARSET = /^[A-Za-z0-9._:@+/=_-]+$/
/** RFC 7515 §4.1.7/§4.1.8 thumbprints: SHA-1 (27 chars) / SHA-256 (43 chars) base64url. */
const THUMBPRINT = /^[A-Za-z0-9_-]{1,64}$/

/**
 * Inert parameters: certificate thumbprints name a key but never supply or locate one, and jose
 * never reads them. Real GitHub Actions and Entra ID tokens carry `x5t`, so rejecting it would reject
 * every token of those issuers. They are shape-checked and otherwise ignored.
 */
const INERT = new Set(['x5t', 'x5t#S256'])
const ALLOWED = new Set(['alg', 'kid', 'typ', ...INERT])

/** Applies the allow-list and returns the three parameters the verifier uses. */
export function checkHeader(header: JsonObject): TokenHeader {
  for (const name of Object.keys(header)) {
    // The name itself is attacker-chosen: report a fixed label, never the name.
    if (!ALLOWED.has(name)) throw new TokenError('header_param', { detail: 'header parameter not allowed' })
  }
  for (const name of INERT) {
    const value = header[name]
    if (value !== undefined && (typeof value !== 'string' || !THUMBPRINT.test(value))) {
      throw new TokenError('header_param', { claim: name, detail: 'thumbprint header parameter invalid' })
    }
  }
  const { alg, kid, typ } = header
  if (typeof alg !== 'string' || alg === '') {
    throw new TokenError('header_param', { claim: 'alg', detail: 'alg missing or not a string' })
  }
  if (typ !== undefined && (typeof typ !== 'string' || typ === '' || typ.length > 64)) {
    throw new TokenError('header_param', { claim: 'typ', detail: 'typ not a short string' })
  }
  if (typeof kid !== 'string') throw new TokenError('header_param', { claim: 'kid', detail: 'kid missing or not a string' })
  if (kid.length === 0 || kid.length > MAX_KID_LENGTH || !KID_CHARSET.test(kid)) {
    throw new TokenError('header_param', { claim: 'kid', detail: 'kid length or charset' })
  }
  return typ === undefined ? { alg, kid } : { alg, kid, typ }
}
