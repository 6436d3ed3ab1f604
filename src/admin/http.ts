import type { IncomingMessage, ServerResponse } from 'node:http'
import { GatewayError } from '../errors/gateway-error.js'
import { invalid } from './errors.js'
import { parseRequestJson } from '../request/json-request.js'

/** Admin request bodies are small JSON documents; anything larger is refused before it is buffered. */
export const maxBodyBytes = 1024 * 1024

export function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  if (body === undefined) {
    res.writeHead(status, { 'cache-control': 'no-store', 'skillgate-request-id': requestId })
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'skillgate-request-id': requestId,
  })
  res.end(text)
}

/** Reads the body bytes as sent, at most `limit` of them (a signature covers exactly these). */
export async function readRawBody(req: IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** Reads and parses a JSON body of at most `maxBodyBytes` (duplicate members refused); an empty body reads as `{}`. */
export async function readJsonBody(req: IncomingMessage, limit = maxBodyBytes): Promise<unknown> {
  const body = await readRawBody(req, limit)
  if (body.toString('utf8').trim() === '') return {}
  return parseRequestJson(body)
}

const tooLarge = (limit: number) => new GatewayError('GW_REQUEST_TOO_LARGE', { publicDetail: `the admin API accepts at most ${limit} bytes`, headers: { connection: 'close' } })

/**
 * The query string as a plain object. A repeated parameter is refused rather than silently taking
 * one of the values (a filter that quietly ignores half of what was asked is a wrong answer).
 */
export function queryObject(search: string): Record<string, string> {
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search)
  const out: Record<string, string> = {}
  for (const [key, value] of params) {
    if (Object.hasOwn(out, key)) throw invalid(`query parameter "${key}" is given more than once`)
    out[key] = value
  }
  return out
}

/** Drains an unread request body so keep-alive connections stay usable after an early refusal. */
export function discardBody(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume()
}
