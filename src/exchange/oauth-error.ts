/**
 * Token-endpoint errors (RFC 6749 §5.2, RFC 8693 §2.2.2). The client sees only `error` and a fixed,
 * generic `error_description` per code (node-oidc-provider's public `error_description` vs internal
 * `error_detail`); the real reason goes to `onEvent`. The SDK keeps only `error`, `error_description`
 * and `error_uri` from such a body (anthropic-api.md §12.3).
 */
import type { ExchangeHttpResponse, OAuthErrorCode } from './types.js'

const PUBLIC_DESCRIPTION: Readonly<Record<OAuthErrorCode, string>> = {
  invalid_request: 'The request is missing a parameter, repeats one, or is otherwise malformed.',
  invalid_client: 'Client authentication is not supported at this endpoint.',
  invalid_grant: 'The assertion was rejected: it is invalid, expired, already used, or no federation rule accepts it.',
  invalid_scope: 'The requested scope exceeds what the federation rule grants.',
  invalid_target: 'The requested resource is not served by this gateway.',
  unsupported_grant_type: 'The grant_type is not supported.',
  temporarily_unavailable: 'The token service is temporarily unavailable; retry later.',
  server_error: 'The token service failed.',
}

const STATUS: Readonly<Record<OAuthErrorCode, number>> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_grant_type: 400,
  temporarily_unavailable: 503,
  server_error: 500,
}

/** RFC 6749 §5.1: token responses must not be cached. */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
}

/** A refused exchange. `reason` and `detail` are internal (events, logs) and never reach the client. */
export class ExchangeError extends Error {
  readonly code: OAuthErrorCode
  readonly reason: string
  readonly detail?: string
  /** RFC 6749 §5.2: a 401 must carry a challenge for the scheme the client tried. */
  readonly challenge?: string
  issuerId?: string
  rule?: string
  /** Its audit record was opened (and closed) in order: the failure event must not record it again. */
  audited?: boolean
  /** Refused after the subject assertion verified: a known workload, not an anonymous caller. */
  subjectVerified?: boolean

  constructor(code: OAuthErrorCode, reason: string, options: { detail?: string; challenge?: string; issuerId?: string } = {}) {
    super(`token exchange refused: ${code} (${reason})`)
    this.name = 'ExchangeError'
    this.code = code
    this.reason = reason
    if (options.detail !== undefined) this.detail = options.detail
    if (options.challenge !== undefined) this.challenge = options.challenge
    if (options.issuerId !== undefined) this.issuerId = options.issuerId
  }

  get status(): number {
    return STATUS[this.code]
  }
}

export function errorResponse(error: ExchangeError): ExchangeHttpResponse {
  const headers: Record<string, string> = { ...NO_STORE_HEADERS }
  if (error.challenge !== undefined) headers['www-authenticate'] = error.challenge
  return { status: error.status, headers, body: JSON.stringify({ error: error.code, error_description: PUBLIC_DESCRIPTION[error.code] }) }
}

export function jsonResponse(body: Readonly<Record<string, unknown>>): ExchangeHttpResponse {
  return { status: 200, headers: { ...NO_STORE_HEADERS }, body: JSON.stringify(body) }
}
