/**
 * OpenID Connect Discovery 1.0 §4 for a statically configured issuer: fetch
 * `<issuer>/.well-known/openid-configuration` and require the document's `issuer` to equal the
 * configured issuer exactly (§4.3; Kubernetes does the same). The `jwks_uri` is then held to the same
 * fetch policy as a pinned URL: the document is issuer-controlled, the URL becomes our request.
 */
import { assertFetchableUrl, fetchJson, KeySourceError, MAX_DISCOVERY_BYTES } from './fetch-policy.js'

/** §4: "any terminating / MUST be removed before appending /.well-known/openid-configuration". */
export function discoveryUrl(issuer: string): URL {
  const base = issuer.endsWith('/') ? issuer.slice(0, -1) : issuer
  return new URL(`${base}/.well-known/openid-configuration`)
}

/** Fetches the discovery document and returns its checked `jwks_uri`. Throws `KeySourceError`. */
export async function discoverJwksUri(issuer: string, allowInsecureHttp: boolean, timeoutMs: number): Promise<URL> {
  const doc = await fetchJson(discoveryUrl(issuer), timeoutMs, MAX_DISCOVERY_BYTES, 'discovery document')
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new KeySourceError('discovery document is not an object')
  }
  const { issuer: docIssuer, jwks_uri: jwksUri } = doc as Record<string, unknown>
  if (docIssuer !== issuer) throw new KeySourceError('discovery document issuer does not match')
  if (typeof jwksUri !== 'string') throw new KeySourceError('discovery document has no jwks_uri')
  let url: URL
  try {
    url = new URL(jwksUri)
  } catch {
    throw new KeySourceError('discovery jwks_uri is not a URL')
  }
  assertFetchableUrl(url, allowInsecureHttp, 'jwks_uri')
  return url
}
