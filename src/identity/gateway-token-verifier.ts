import { GATEWAY_ISSUER_ID, type GatewayTokens } from './gateway-token.js'
import type { TokenVerifier, VerifiedToken } from './types.js'

/**
 * Identities this module verified against the gateway's own keys. Membership is the only way to
 * recognise a gateway token: an external issuer configured with the id `skillgate` (refused by config
 * anyway) must never have its `rule` and `sub` claims trusted as a binding.
 */
const gatewayVerified = new WeakSet<VerifiedToken>()

/** True only for an identity `routeGatewayTokens` verified as a gateway-minted token. */
export function isGatewayToken(identity: VerifiedToken): boolean {
  return gatewayVerified.has(identity)
}

/**
 * One verifier for `/v1/*` credentials: gateway-minted tokens (routed by their unverified `iss`,
 * then verified strictly against the gateway's own keys) and workload tokens of `direct` issuers.
 * A token that claims the gateway's issuer can only ever be checked against the gateway's keys,
 * and the two token kinds carry distinct audiences and `typ` (RFC 8725 §3.12).
 */
export function routeGatewayTokens(workload: TokenVerifier, gateway: Pick<GatewayTokens, 'issuer' | 'verify'>): TokenVerifier {
  // The route depends on the token's text alone; remembering it spares a base64 decode and a JSON
  // parse per request for the tokens a job sends again and again (cleared when it grows).
  const routes = new Map<string, boolean>()
  const isGatewayToken = (token: string): boolean => {
    let route = routes.get(token)
    if (route === undefined) {
      if (routes.size >= 4096) routes.clear()
      route = peekIssuer(token) === gateway.issuer
      routes.set(token, route)
    }
    return route
  }
  return {
    async verify(token, options) {
      if (!isGatewayToken(token)) return workload.verify(token, options)
      const claims = await gateway.verify(token)
      const verified: VerifiedToken = Object.freeze({
        issuerId: GATEWAY_ISSUER_ID,
        claims: Object.freeze({ ...claims }),
        header: Object.freeze({ alg: 'ES256', typ: 'at+jwt' }),
      })
      gatewayVerified.add(verified)
      return verified
    },
    health: () => workload.health(),
    warmUp: () => workload.warmUp(),
    close: () => workload.close(),
  }
}

/** The unverified `iss` of a compact JWT, for routing only; undefined when it cannot be read. */
export function peekIssuer(token: string): string | undefined {
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  if (first < 1 || second < 0 || second - first > 16_384) return undefined
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'))
    const iss = typeof payload === 'object' && payload !== null ? (payload as { iss?: unknown }).iss : undefined
    return typeof iss === 'string' ? iss : undefined
  } catch {
    return undefined
  }
}
