import type { IssuerConfig } from '../config/schema.js'
import { GatewayError } from '../errors/gateway-error.js'
import type { TokenVerifier } from '../identity/index.js'
import { GATEWAY_ISSUER_ID } from '../identity/gateway-token.js'
import { isGatewayToken } from '../identity/gateway-token-verifier.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import { sourceValue } from '../identity/source-value.js'
import type { Policy } from '../policy/compile.js'
import { selectRule } from '../policy/select-rule.js'
import { decisionToError, readSource } from '../stages/authorize.js'
import { rejectRevoked, verifyOrReject } from '../stages/authenticate.js'
import type { MintedTokenStore } from '../storage/ports-minted.js'
import type { McpAuthenticator, McpCaller } from './caller.js'

export interface WorkloadAuthenticatorDeps {
  readonly verifier: TokenVerifier
  readonly issuers: readonly IssuerConfig[]
  readonly revocations: RevocationCache
  readonly policy: Policy
  readonly minted: MintedTokenStore
}

/**
 * The same tokens and rules as `/v1/*` (authenticate + authorize stages): a direct workload token of an
 * issuer with `direct: true`, or a gateway token re-checked against today's rules over its source
 * claims. Revoked tokens, principals and issuers are refused. Tried last: it claims every bearer it
 * is given. As on `/v1`, the `skillgate-rule` header names the rule for a direct token and is not read
 * for a gateway token (its rule was fixed at the exchange).
 */
export function workloadAuthenticator(deps: WorkloadAuthenticatorDeps): McpAuthenticator {
  const directIssuers = new Set(deps.issuers.filter((issuer) => issuer.direct).map((issuer) => issuer.id))
  const issuerIds = new Map(deps.issuers.map((issuer) => [sourceValue(issuer.issuer), issuer.id]))
  return async function authenticateWorkload(bearer, serverId, request): Promise<McpCaller> {
    const identity = await verifyOrReject(deps.verifier, bearer)
    const claims = identity.claims
    const jti = typeof claims.jti === 'string' ? claims.jti : undefined
    let selection: ReturnType<typeof selectRule>
    let ruleClaims: Readonly<Record<string, unknown>>
    if (isGatewayToken(identity)) {
      rejectRevoked(deps.revocations.checkToken(GATEWAY_ISSUER_ID, String(claims.iss), jti))
      const src = (claims.src ?? {}) as Record<string, unknown>
      const sourceIss = typeof src.iss === 'string' ? src.iss : ''
      rejectRevoked(deps.revocations.checkToken(issuerIds.get(sourceIss) ?? sourceIss, sourceIss, typeof src.jti === 'string' ? src.jti : undefined))
      const source = await readSource(deps.minted, claims.jti, deps.revocations)
      selection = selectRule(deps.policy, { issuerId: source.issuerId, claims: source.claims, namedRule: String(claims.rule) })
      if (selection.ok && selection.principal !== String(claims.sub)) throw new GatewayError('GW_AUTHZ_NO_RULE', { publicDetail: `rule ${String(claims.rule)}: the principal now maps differently` })
      ruleClaims = source.claims
    } else {
      if (!directIssuers.has(identity.issuerId)) {
        throw new GatewayError('GW_AUTHN_NOT_DIRECT', { publicDetail: `issuer ${identity.issuerId}`, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
      }
      rejectRevoked(deps.revocations.checkToken(identity.issuerId, String(claims.iss), jti))
      // The `skillgate-rule` header picks one of several matching allow rules, as on /v1; without it
      // an ambiguous match stays refused, its message saying to send the header.
      selection = selectRule(deps.policy, { issuerId: identity.issuerId, claims, namedRule: request?.namedRule, serves: (rule) => rule.serves.mcp.has(serverId) })
      ruleClaims = claims
    }
    if (!selection.ok) throw decisionToError(selection.decision)
    const iat = typeof claims.iat === 'number' ? claims.iat : undefined
    rejectRevoked(deps.revocations.checkPrincipal(selection.principal, iat))
    // Whether the rule grants this server is the endpoint's check (for every authenticator), after this.
    return { principal: selection.principal, claims: ruleClaims, ruleName: selection.rule.id }
  }
}
