import type { ServerResponse } from 'node:http'
import { z } from 'zod'
import type { AnthropicErrorType, ErrorSpec } from '../errors/codes.js'
import { GatewayError, isGatewayError } from '../errors/gateway-error.js'
import { StorageError } from '../storage/errors.js'

/**
 * Codes the admin API needs that `src/errors/codes.ts` does not have yet. Same shape as
 * `errorTable`; they are meant to move there (and into docs/errors.md), after which `AdminError`
 * can become a plain `GatewayError`. Authentication and role refusals already use the existing
 * `GW_AUTHN_*` / `GW_AUTHZ_DENIED` codes.
 */
export const adminErrorTable = {
  GW_ADMIN_INVALID_REQUEST: { status: 400, type: 'invalid_request_error', message: 'invalid admin API request' },
  GW_ADMIN_CONFLICT: { status: 409, type: 'invalid_request_error', message: 'the request conflicts with the current state' },
  GW_ADMIN_SELF_APPROVAL: { status: 403, type: 'permission_error', message: 'a requester cannot decide its own review' },
  GW_ADMIN_STORE_UNAVAILABLE: { status: 503, type: 'api_error', message: 'the store is unavailable' },
} as const satisfies Record<string, ErrorSpec>

export type AdminErrorCode = keyof typeof adminErrorTable

const brand = Symbol.for('skillgate.AdminError')

export class AdminError extends Error {
  readonly [brand] = true
  readonly code: AdminErrorCode
  /** Safe, code-built text appended to the public message (a field path, an id). Never a token. */
  readonly publicDetail: string | undefined
  readonly headers: Readonly<Record<string, string>> = {}

  constructor(code: AdminErrorCode, publicDetail?: string, options: { cause?: unknown } = {}) {
    super(publicDetail ?? adminErrorTable[code].message, options)
    this.name = 'AdminError'
    this.code = code
    this.publicDetail = publicDetail
  }

  get status(): number {
    return adminErrorTable[this.code].status
  }

  get type(): AnthropicErrorType {
    return adminErrorTable[this.code].type
  }

  get publicMessage(): string {
    const base = adminErrorTable[this.code].message
    return this.publicDetail ? `${base}: ${this.publicDetail}` : base
  }

  static is(value: unknown): value is AdminError {
    return typeof value === 'object' && value !== null && brand in value
  }
}

/** What a refusal looks like on the wire, whichever table its code lives in. */
export type PublicFailure = GatewayError | AdminError

export const invalid = (detail: string): AdminError => new AdminError('GW_ADMIN_INVALID_REQUEST', detail)

/**
 * Maps anything a handler throws to a public failure. Storage errors carry safe messages (ids and
 * states, never row content), so their text is passed on for 4xx; 5xx text stays in the logs.
 */
export function toPublicFailure(error: unknown): PublicFailure {
  if (isGatewayError(error) || AdminError.is(error)) return error
  if (error instanceof z.ZodError) return invalid(describeZodError(error))
  if (StorageError.is(error)) {
    switch (error.code) {
      case 'not_found':
        return new GatewayError('GW_NOT_FOUND', { publicDetail: error.message })
      case 'conflict':
        return new AdminError('GW_ADMIN_CONFLICT', error.message)
      case 'forbidden':
        return new AdminError('GW_ADMIN_SELF_APPROVAL', error.message)
      case 'invalid':
        return invalid(error.message)
      default:
        return new AdminError('GW_ADMIN_STORE_UNAVAILABLE', undefined, { cause: error })
    }
  }
  return new GatewayError('GW_INTERNAL', { detail: (error as Error)?.message ?? String(error), cause: error })
}

/** `field "kind": expected one of principal, token, issuer; field "jti": required`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.filter((p) => typeof p !== 'symbol').join('.')
      return path ? `field "${path}": ${issue.message}` : issue.message
    })
    .join('; ')
}

/** Anthropic's error shape (SPEC §4), never cached. */
export function sendFailure(res: ServerResponse, failure: PublicFailure, requestId: string): void {
  const body = JSON.stringify({ type: 'error', error: { type: failure.type, message: failure.publicMessage }, request_id: requestId })
  res.writeHead(failure.status, {
    ...failure.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'skillgate-request-id': requestId,
  })
  res.end(body)
}
