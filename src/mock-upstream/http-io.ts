/**
 * Response writing shared by every handler: the headers a real upstream sends on every response
 * (request-id, organization, rate limits), JSON bodies, Anthropic-shaped errors and cancellable delays.
 */
import { gzip } from 'node:zlib'
import type { ServerResponse } from 'node:http'
import type { Ctx } from './types.js'

export const MOCK_ORGANIZATION_ID = '00000000-0000-4000-8000-000000000ac4'

type HeaderMap = Record<string, string>

let rateLimitSecond = -1
let rateLimitHeaders: HeaderMap = {}

/** Rate-limit headers change once per second at most, so build them once per second, not per request. */
function currentRateLimitHeaders(): HeaderMap {
  const now = Date.now()
  const second = Math.floor(now / 1000)
  if (second !== rateLimitSecond) {
    rateLimitSecond = second
    const reset = new Date((second + 1) * 1000).toISOString().replace('.000Z', 'Z')
    rateLimitHeaders = {
      'anthropic-ratelimit-requests-limit': '4000',
      'anthropic-ratelimit-requests-remaining': '3999',
      'anthropic-ratelimit-requests-reset': reset,
      'anthropic-ratelimit-input-tokens-limit': '2000000',
      'anthropic-ratelimit-input-tokens-remaining': '2000000',
      'anthropic-ratelimit-input-tokens-reset': reset,
      'anthropic-ratelimit-output-tokens-limit': '400000',
      'anthropic-ratelimit-output-tokens-remaining': '400000',
      'anthropic-ratelimit-output-tokens-reset': reset,
      'anthropic-ratelimit-tokens-limit': '2400000',
      'anthropic-ratelimit-tokens-remaining': '2400000',
      'anthropic-ratelimit-tokens-reset': reset,
    }
  }
  return rateLimitHeaders
}

export function baseHeaders(requestId: string): HeaderMap {
  return {
    'request-id': requestId,
    'anthropic-organization-id': MOCK_ORGANIZATION_ID,
    ...currentRateLimitHeaders(),
  }
}

/** First value of a request header (node joins most repeats, but not all). */
export function header(ctx: Pick<Ctx, 'rec'>, name: string): string | undefined {
  const value = ctx.rec.headers[name]
  return Array.isArray(value) ? value[0] : value
}

export function sendRaw(ctx: Ctx, status: number, contentType: string, body: Buffer | string, extra: HeaderMap = {}): void {
  const { res } = ctx
  if (res.headersSent || res.destroyed) return
  const data = typeof body === 'string' ? Buffer.from(body) : body
  res.writeHead(status, {
    ...baseHeaders(ctx.requestId),
    'content-type': contentType,
    'content-length': String(data.length),
    ...extra,
  })
  res.end(data)
}

/**
 * `mock-gzip: 1` compresses JSON when the client accepts gzip, as the real API may: it lets the gateway
 * test its decoding path.
 */
export function sendJson(ctx: Ctx, status: number, body: unknown, extra: HeaderMap = {}): void {
  const data = Buffer.from(JSON.stringify(body))
  const wantsGzip = header(ctx, 'mock-gzip') === '1' && /\bgzip\b/.test(header(ctx, 'accept-encoding') ?? '')
  if (!wantsGzip) {
    sendRaw(ctx, status, 'application/json', data, extra)
    return
  }
  gzip(data, (err, zipped) => {
    if (err) sendRaw(ctx, status, 'application/json', data, extra)
    else sendRaw(ctx, status, 'application/json', zipped, { ...extra, 'content-encoding': 'gzip' })
  })
}

export function errorBody(type: string, message: string, requestId: string): Record<string, unknown> {
  return { type: 'error', error: { type, message }, request_id: requestId }
}

export function sendError(ctx: Ctx, status: number, type: string, message: string, extra: HeaderMap = {}): void {
  sendJson(ctx, status, errorBody(type, message, ctx.requestId), extra)
}

export function notFound(ctx: Ctx, message = 'Not found'): void {
  sendError(ctx, 404, 'not_found_error', message)
}

export function badRequest(ctx: Ctx, message: string): void {
  sendError(ctx, 400, 'invalid_request_error', message)
}

/** Resolves true after `ms`, or false as soon as the response closes (client gone or mock closed). */
export function sleep(res: ServerResponse, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!res.destroyed)
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      res.off('close', onClose)
      resolve(true)
    }, ms)
    res.once('close', onClose)
  })
}

/** A non-negative integer header such as `mock-delay-ms`, or undefined when absent or malformed. */
export function intHeader(ctx: Pick<Ctx, 'rec'>, name: string): number | undefined {
  const raw = header(ctx, name)
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined
  return Number(raw.trim())
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function isoNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString()
}
