/**
 * Reads a request completely and turns it into a `RecordedRequest`: exact bytes, raw headers in their
 * original order and case, the parsed JSON and the multipart part summary.
 */
import type { IncomingMessage } from 'node:http'
import { boundaryOf, parseMultipart, summarize } from './multipart.js'
import type { MultipartPart } from './multipart.js'
import type { RecordedRequest } from './types.js'

/** Larger than any real API limit (32 MB messages, 500 MB files are out of scope for a mock). */
const MAX_BODY_BYTES = 64 * 1024 * 1024

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export interface Recorded {
  rec: RecordedRequest
  parts: MultipartPart[] | undefined
}

export function splitUrl(url: string): { path: string; search: string } {
  const q = url.indexOf('?')
  return q === -1 ? { path: url, search: '' } : { path: url.slice(0, q), search: url.slice(q) }
}

export function recordRequest(req: IncomingMessage, body: Buffer, receivedAt: number): Recorded {
  const { path, search } = splitUrl(req.url ?? '/')
  const rec: RecordedRequest = {
    method: req.method ?? 'GET',
    path,
    search,
    rawHeaders: req.rawHeaders,
    headers: req.headers,
    body,
    receivedAt,
  }
  const contentType = req.headers['content-type']
  if (contentType !== undefined && /\bjson\b/i.test(contentType) && body.length > 0) {
    try {
      rec.json = JSON.parse(body.toString('utf8')) as unknown
    } catch {
      // Malformed JSON is recorded as bytes only; the handler answers 400.
    }
  }
  const boundary = boundaryOf(contentType)
  let parts: MultipartPart[] | undefined
  if (boundary !== undefined) {
    parts = parseMultipart(body, boundary)
    if (parts !== undefined) rec.multipart = summarize(parts)
  }
  return { rec, parts }
}
