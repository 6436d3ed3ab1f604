/**
 * POST /v1/oauth/token — the jwt-bearer exchange of Claude workload identity federation (reference §12).
 * It needs no credential and no anthropic-version. Errors use the RFC 6749 §5.2 shape
 * (`{error, error_description}`) because that is all the SDK keeps from a token-endpoint error.
 */
import { newAccessToken } from './ids.js'
import { header, isRecord, notFound, sendJson } from './http-io.js'
import type { Ctx, FederationExchange } from './types.js'

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
const MAX_ASSERTION_BYTES = 16 * 1024

function oauthError(ctx: Ctx, status: number, error: string, description: string): void {
  sendJson(ctx, status, { error, error_description: description }, { 'cache-control': 'no-store' })
}

function decodesToObject(segment: string): boolean {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return isRecord(parsed)
  } catch {
    return false
  }
}

/** Three base64url segments whose header and payload are JSON objects; the signature is not checked. */
export function isWellFormedJwt(assertion: string): boolean {
  const segments = assertion.split('.')
  if (segments.length !== 3) return false
  const [head, payload, signature] = segments as [string, string, string]
  const b64url = /^[A-Za-z0-9_-]+$/
  if (!b64url.test(head) || !b64url.test(payload) || !/^[A-Za-z0-9_-]*$/.test(signature)) return false
  return decodesToObject(head) && decodesToObject(payload)
}

function pruneExpired(tokens: Map<string, number>, now: number): void {
  for (const [token, expiresAt] of tokens) {
    if (expiresAt <= now) tokens.delete(token)
  }
}

export function handleOauthToken(ctx: Ctx): void {
  const ttl = ctx.state.federationTtlSeconds
  if (ttl === undefined) {
    notFound(ctx, 'federation is not enabled on this mock upstream')
    return
  }
  const body = ctx.rec.json
  if (!/\bjson\b/i.test(header(ctx, 'content-type') ?? '') || !isRecord(body)) {
    oauthError(ctx, 400, 'invalid_request', 'the request body must be a JSON object')
    return
  }
  if (body.grant_type !== JWT_BEARER) {
    oauthError(ctx, 400, 'unsupported_grant_type', `grant_type must be ${JWT_BEARER}`)
    return
  }
  const assertion = body.assertion
  if (typeof assertion !== 'string' || Buffer.byteLength(assertion) > MAX_ASSERTION_BYTES || !isWellFormedJwt(assertion)) {
    oauthError(ctx, 400, 'invalid_grant', 'assertion is not a well-formed JWT')
    return
  }
  const exchange: FederationExchange = { assertion }
  if (typeof body.federation_rule_id === 'string') exchange.federation_rule_id = body.federation_rule_id
  if (typeof body.organization_id === 'string') exchange.organization_id = body.organization_id
  ctx.state.exchanges.push(exchange)
  const now = Date.now()
  pruneExpired(ctx.state.tokens, now)
  const accessToken = newAccessToken()
  ctx.state.tokens.set(accessToken, now + ttl * 1000)
  sendJson(ctx, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: ttl }, { 'cache-control': 'no-store' })
}
