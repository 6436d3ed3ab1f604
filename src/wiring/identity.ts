import type { JWK } from 'jose'
import type { Config } from '../config/load.js'
import type { IssuerConfig } from '../config/schema.js'
import { createTokenVerifier, type IssuerHealth, type IssuerSpec, type TokenVerifier } from '../identity/index.js'
import { routeGatewayTokens } from '../identity/gateway-token-verifier.js'
import type { GatewayTokens } from '../identity/gateway-token.js'
import { openRevocationCache, type RevocationCache } from '../identity/revocation-cache.js'
import { cacheVerifications } from '../identity/verified-cache.js'
import type { Storage } from '../storage/ports.js'
import type { ErrorReports } from './error-reports.js'

/** The data plane's verifier for one configuration: gateway tokens and workload tokens of `issuers`. */
export interface WorkloadIdentity {
  /** Cached, routing gateway tokens to `gatewayTokens`: what the pipeline and the exchange call. */
  readonly verifier: TokenVerifier
  /** Key-set health of the configured issuers (readiness, admin API). */
  health(): readonly IssuerHealth[]
}

/** Builds the verifier and fetches every issuer's keys once, so a bad issuer shows at start-up. */
export async function buildWorkloadIdentity(config: Config, gatewayTokens: GatewayTokens): Promise<WorkloadIdentity> {
  const workload = createTokenVerifier(config.issuers.map(toIssuerSpec), {
    cacheMaxAgeMs: config.keySets.maxAge,
    cooldownMs: config.keySets.cooldown,
    fetchTimeoutMs: config.keySets.fetchTimeout,
  })
  await workload.warmUp()
  // Gateway tokens keep their own cache, which drops a token as soon as its key leaves the ring.
  return { verifier: routeGatewayTokens(cacheVerifications(workload), gatewayTokens), health: () => workload.health() }
}

/** Human OIDC issuers of the admin API (`admin.issuers`); none configured, none built. */
export async function buildAdminVerifier(config: Config): Promise<TokenVerifier | undefined> {
  if (config.admin.issuers.length === 0) return undefined
  const verifier = createTokenVerifier(config.admin.issuers.map(toIssuerSpec))
  await verifier.warmUp()
  return verifier
}

/** The revocation list, kept in memory and refreshed from the store (shared by every configuration). */
export function openRevocations(storage: Storage, reports: ErrorReports): Promise<RevocationCache> {
  return openRevocationCache(storage.revocations, { onError: (error) => reports.revocationRefresh(error) })
}

export function toIssuerSpec(issuer: IssuerConfig): IssuerSpec {
  const { jwks } = issuer
  return {
    id: issuer.id,
    issuer: issuer.issuer,
    jwks: jwks.uri
      ? { kind: 'uri', uri: new URL(jwks.uri) }
      : jwks.file
        ? { kind: 'file', path: jwks.file }
        : jwks.keys
          ? { kind: 'keys', keys: jwks.keys as JWK[] }
          : { kind: 'discovery' },
    audience: issuer.audience,
    algorithms: issuer.algorithms,
    maxLifetimeMs: issuer.maxLifetime,
    ...(issuer.maxAge !== undefined ? { maxAgeMs: issuer.maxAge } : {}),
    clockSkewMs: issuer.clockSkew,
    requiredClaims: issuer.requiredClaims,
    ...(issuer.typ !== undefined ? { typ: issuer.typ } : {}),
    allowInsecureHttp: issuer.insecureAllowHttp,
  }
}
