import { Pool, errors as undiciErrors } from 'undici'
import { GatewayError } from '../errors/gateway-error.js'
import { UpstreamExchange } from './body.js'

export interface UpstreamOptions {
  readonly origin: string
  readonly connections: number
  readonly connectTimeoutMs: number
  /** Time allowed until response headers arrive (a long non-streaming generation waits here). */
  readonly firstByteTimeoutMs: number
  /** Longest silence allowed between two body chunks. */
  readonly idleTimeoutMs: number
}

export interface UpstreamRequest {
  readonly method: string
  readonly path: string
  readonly headers: string[]
  readonly body: Buffer | undefined
  readonly signal: AbortSignal
}

export interface UpstreamAnswer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  /** Read it to the end or stop early: stopping (`return()`) abandons the call. */
  readonly body: AsyncIterable<Uint8Array>
}

export interface UpstreamClient {
  send(request: UpstreamRequest): Promise<UpstreamAnswer>
  close(): Promise<void>
}

/** A keep-alive pool to the one configured upstream origin; clients never choose where it goes. */
export function createUpstreamClient(options: UpstreamOptions): UpstreamClient {
  const pool = new Pool(options.origin, {
    connections: options.connections,
    connectTimeout: options.connectTimeoutMs,
    headersTimeout: options.firstByteTimeoutMs,
    bodyTimeout: options.idleTimeoutMs,
    keepAliveTimeout: 30_000,
    pipelining: 1,
  })
  return {
    async send(request) {
      const exchange = new UpstreamExchange(request.signal)
      try {
        pool.dispatch({ method: request.method as 'POST', path: request.path, headers: request.headers, body: request.body && request.body.length > 0 ? request.body : null }, exchange)
        return await exchange.head
      } catch (error) {
        throw toGatewayError(error)
      }
    },
    close: () => pool.close(),
  }
}

/** Connect/first-byte timeouts → 504; every other transport failure → 502 (undici error codes). */
export function toGatewayError(error: unknown): GatewayError | Error {
  if (error instanceof undiciErrors.RequestAbortedError) return error
  const code = (error as { code?: string }).code ?? ''
  const timeouts = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
  return new GatewayError(timeouts.has(code) ? 'GW_UPSTREAM_TIMEOUT' : 'GW_UPSTREAM_UNREACHABLE', {
    detail: `upstream ${code || (error as Error).message}`,
    cause: error,
  })
}
