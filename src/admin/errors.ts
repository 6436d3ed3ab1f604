import type { ServerResponse } from 'node:http'
import { z } from 'zod'
import type { GatewayErrorCode } from '../errors/codes.js'
import { GatewayError, isGatewayError } from '../errors/gateway-error.js'
import { StorageError } from '../storage/errors.js'

export type AdminErrorCode = Extract<GatewayErrorCode, `GW_ADMIN_${string}`>

/** A refusal of the admin API: a GatewayError (one table, src/errors/codes.ts) with an admin code. */
export class AdminError extends GatewayError {
  constructor(code: AdminErrorCode, publicDetail?: string, options: { cause?: unknown } = {}) {
    super(code, { ...(publicDetail !== undefined ? { publicDetail } : {}), ...(options.cause !== undefined ? { cause: options.cause } : {}) })
    this.name = 'AdminError'
  }

  static is(value: unknown): value is AdminError {
    return isGatewayError(value) && value.code.startsWith('GW_ADMIN_')
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
