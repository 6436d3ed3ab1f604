/**
 * Reads the token endpoint's body under a size cap and a progress deadline. The endpoint is
 * unauthenticated, so a client that sends one byte every 20 s must not hold a connection (and its
 * buffers) open forever: the body must keep arriving (`idleMs` between chunks) and be complete within
 * `deadlineMs` of the first read, whichever ends first. Stream-level only: no HTTP types.
 */
import type { Readable } from 'node:stream'
import { NO_STORE_HEADERS } from './oauth-error.js'
import type { ExchangeHttpResponse } from './types.js'

export interface BodyLimits {
  readonly maxBytes: number
  /** Longest pause between two chunks. */
  readonly idleMs: number
  /** Longest time for the whole body. */
  readonly deadlineMs: number
}

/** An assertion and a few fields fit in 128 KiB; well-behaved clients send them in one packet. */
export const EXCHANGE_BODY_LIMITS: BodyLimits = { maxBytes: 128 * 1024, idleMs: 5_000, deadlineMs: 10_000 }

export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly reason: 'too_large' | 'timeout' | 'aborted' }

/**
 * Resolves once the body is complete or refused; never rejects. On refusal the stream is left paused
 * (the caller answers and closes the connection).
 * @example const result = await readBody(req, EXCHANGE_BODY_LIMITS); if (!result.ok) answer(result.reason === 'timeout' ? 408 : 400)
 */
export function readBody(stream: Readable, limits: BodyLimits): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (result: BodyResult) => {
      clearTimeout(deadline)
      clearTimeout(idle)
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('close', onClose)
      if (!result.ok) stream.pause()
      resolve(result)
    }
    const timeout = () => finish({ ok: false, reason: 'timeout' })
    const deadline = setTimeout(timeout, limits.deadlineMs)
    let idle = setTimeout(timeout, limits.idleMs)
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limits.maxBytes) return finish({ ok: false, reason: 'too_large' })
      chunks.push(chunk)
      clearTimeout(idle)
      idle = setTimeout(timeout, limits.idleMs)
    }
    const onEnd = () => finish({ ok: true, body: Buffer.concat(chunks, size) })
    const onError = () => finish({ ok: false, reason: 'aborted' })
    const onClose = () => finish({ ok: false, reason: 'aborted' })
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onError)
    stream.on('close', onClose)
  })
}

const REFUSALS = {
  too_large: { status: 413, description: 'request body too large' },
  timeout: { status: 408, description: 'request body not received in time' },
  aborted: { status: 400, description: 'request body incomplete' },
} as const

/** The OAuth-shaped answer to a refused body; the connection is closed since the rest of the body is never read. */
export function bodyRefusedResponse(reason: Extract<BodyResult, { ok: false }>['reason']): ExchangeHttpResponse {
  const { status, description } = REFUSALS[reason]
  return { status, headers: { ...NO_STORE_HEADERS, connection: 'close' }, body: JSON.stringify({ error: 'invalid_request', error_description: description }) }
}
