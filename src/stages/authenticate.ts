import type { IncomingHttpHeaders } from 'node:http'
import type { IssuerConfig } from '../config/schema.js'
import { GatewayError } from '../errors/gateway-error.js'
import type { GatewayErrorCode } from '../errors/codes.js'
import { TokenError, type TokenRejectReason, type TokenVerifier, type VerifiedToken } from '../identity/index.js'
import { GATEWAY_ISSUER_ID } from '../identity/gateway-token.js'
import { isGatewayToken } from '../identity/gateway-token-verifier.js'
import type { RevocationCache, RevocationVerdict } from '../identity/revocation-cache.js'
import { sourceValue } from '../identity/source-value.js'
import type { Stage } from '../pipeline/stage.js'

const wwwAuthenticate = { 'www-authenticate': 'Bearer error="invalid_token"' }

const reasonToCode: Partial<Record<TokenRejectReason, GatewayErrorCode>> = {
  expired: 'GW_AUTHN_EXPIRED',
  untrusted_issuer: 'GW_AUTHN_UNTRUSTED_ISSUER',
  issuer_unavailable: 'GW_AUTHN_ISSUER_UNAVAILABLE',
}

/**
 * Verifies the gateway or workload token from `Authorization: Bearer` or `x-api-key` (clients send either, and
 * Claude Code may send both: they must agree). No token or a bad one ends the request with 401
 * before a byte of the body is read or anything goes upstream.
 */
export const authenticate = (verifier: TokenVerifier, issuers: readonly IssuerConfig[], revocations: RevocationCache): Stage => {
  const directIssuers = new Set(issuers.filter((issuer) => issuer.direct).map((issuer) => issuer.id))
  // Keyed by the form a gateway token's `src.iss` carries (hashed when over 256 characters).
  const issuerIds = new Map(issuers.map((issuer) => [sourceValue(issuer.issuer), issuer.id]))
  return async function authenticate(ctx, next) {
    const identity = await verifyOrReject(verifier, readCredential(ctx.headers))
    const claims = identity.claims
    const jti = typeof claims.jti === 'string' ? claims.jti : undefined
    if (isGatewayToken(identity)) {
      // A gateway token answers for its own jti and for the workload token it was exchanged for.
      rejectRevoked(revocations.checkToken(GATEWAY_ISSUER_ID, String(claims.iss), jti))
      const src = (claims.src ?? {}) as Record<string, unknown>
      const sourceIss = typeof src.iss === 'string' ? src.iss : ''
      rejectRevoked(revocations.checkToken(issuerIds.get(sourceIss) ?? sourceIss, sourceIss, typeof src.jti === 'string' ? src.jti : undefined))
    } else {
      if (!directIssuers.has(identity.issuerId)) {
        throw new GatewayError('GW_AUTHN_NOT_DIRECT', { publicDetail: `issuer ${identity.issuerId}`, headers: wwwAuthenticate })
      }
      rejectRevoked(revocations.checkToken(identity.issuerId, String(claims.iss), jti))
    }
    ctx.identity = identity
    return next()
  }
}

/** A revoked token, principal or issuer is a 401 (the SDK then re-exchanges once); no list is a 503. */
export function rejectRevoked(verdict: RevocationVerdict): void {
  if (verdict === 'ok') return
  if (verdict === 'unavailable') throw new GatewayError('GW_REVOCATIONS_UNAVAILABLE')
  throw new GatewayError('GW_AUTHN_REVOKED', { detail: verdict, headers: wwwAuthenticate })
}

export async function verifyOrReject(verifier: TokenVerifier, token: string): Promise<VerifiedToken> {
  try {
    return await verifier.verify(token)
  } catch (error) {
    if (!(error instanceof TokenError)) throw error
    throw new GatewayError(reasonToCode[error.reason] ?? 'GW_AUTHN_INVALID', {
      detail: `token rejected: ${error.reason}${error.claim ? ` (${error.claim})` : ''}`,
      headers: wwwAuthenticate,
    })
  }
}

export function readCredential(headers: IncomingHttpHeaders): string {
  const authorization = headers.authorization
  const bearer = authorization !== undefined && /^Bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined
  if (authorization !== undefined && bearer === undefined) {
    throw new GatewayError('GW_AUTHN_INVALID', { detail: 'authorization header is not a Bearer credential', headers: wwwAuthenticate })
  }
  const apiKey = typeof headers['x-api-key'] === 'string' ? headers['x-api-key'].trim() : undefined
  if (bearer && apiKey && bearer !== apiKey) throw new GatewayError('GW_AUTHN_CONFLICT', { headers: wwwAuthenticate })
  const token = bearer || apiKey
  if (!token) throw new GatewayError('GW_AUTHN_MISSING', { headers: wwwAuthenticate })
  return token
}
