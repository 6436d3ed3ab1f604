import type { ServerResponse } from 'node:http'
import { GatewayError, isGatewayError } from './gateway-error.js'

/** Anthropic's error shape, so SDKs classify and retry correctly (SPEC §4). */
export function errorBody(error: GatewayError, requestId: string): string {
  return JSON.stringify({ type: 'error', error: { type: error.type, message: error.publicMessage }, request_id: requestId })
}

/** The SSE form, once a stream has started and the status line can no longer change. */
export function sseErrorFrame(error: GatewayError, requestId: string): string {
  return `event: error\ndata: ${errorBody(error, requestId)}\n\n`
}

/** Anything that is not a GatewayError is an internal error: its text never reaches the client. */
export function asGatewayError(error: unknown): GatewayError {
  return isGatewayError(error) ? error : new GatewayError('GW_INTERNAL', { detail: (error as Error)?.message ?? String(error), cause: error })
}

/** Writes a JSON error response; headers are fixed by the error, never by the failing code path. */
export function sendError(res: ServerResponse, error: GatewayError, requestId: string): void {
  const body = errorBody(error, requestId)
  res.writeHead(error.status, {
    ...error.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'skillgate-request-id': requestId,
  })
  res.end(body)
}
