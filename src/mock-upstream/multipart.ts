/**
 * A small multipart/form-data parser over a complete Buffer (RFC 7578). The mock reads whole bodies
 * anyway (it records them), so a streaming parser would add complexity for nothing.
 */
import type { MultipartSummary } from './types.js'

export interface MultipartPart {
  name: string
  filename?: string
  contentType?: string
  data: Buffer
}

/** The boundary parameter of a multipart content-type, unquoted; undefined if not multipart. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^\s*multipart\/form-data\b/i.test(contentType)) return undefined
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  const boundary = match?.[1] ?? match?.[2]
  return boundary !== undefined && boundary.length > 0 && boundary.length <= 200 ? boundary : undefined
}

interface Disposition {
  name?: string
  filename?: string
}

function parseDisposition(value: string): Disposition {
  const out: Disposition = {}
  const param = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g
  for (let m = param.exec(value); m !== null; m = param.exec(value)) {
    const key = (m[1] ?? '').toLowerCase()
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim()
    if (key === 'name') out.name = raw
    else if (key === 'filename' && out.filename === undefined) out.filename = raw
    else if (key === 'filename*') out.filename = decodeExtended(raw)
  }
  return out
}

/** RFC 5987 `UTF-8''percent-encoded` values (filename*), which take precedence over `filename`. */
function decodeExtended(raw: string): string {
  const value = raw.replace(/^[^']*'[^']*'/, '')
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function parseHeaders(block: string): { disposition?: string; contentType?: string } {
  const out: { disposition?: string; contentType?: string } = {}
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === 'content-disposition') out.disposition = value
    else if (name === 'content-type') out.contentType = value
  }
  return out
}

function toPart(headerBlock: string, data: Buffer): MultipartPart | undefined {
  const headers = parseHeaders(headerBlock)
  if (headers.disposition === undefined) return undefined
  const disposition = parseDisposition(headers.disposition)
  if (disposition.name === undefined) return undefined
  const part: MultipartPart = { name: disposition.name, data }
  if (disposition.filename !== undefined) part.filename = disposition.filename
  if (headers.contentType !== undefined) part.contentType = headers.contentType
  return part
}

/** Parts in order, or undefined when the body is not well-formed multipart for `boundary`. */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] | undefined {
  const opening = Buffer.from(`--${boundary}`)
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  let pos = body.indexOf(opening)
  if (pos === -1) return undefined
  pos += opening.length
  const parts: MultipartPart[] = []
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts // closing "--boundary--"
    const lineEnd = body.indexOf('\r\n', pos)
    if (lineEnd === -1) return undefined
    const headerEnd = body.indexOf('\r\n\r\n', lineEnd)
    if (headerEnd === -1) return undefined
    // An empty header block has its CRLFCRLF right at lineEnd.
    const headerBlock = headerEnd === lineEnd ? '' : body.toString('utf8', lineEnd + 2, headerEnd)
    const dataStart = headerEnd + 4
    const next = body.indexOf(delimiter, dataStart)
    if (next === -1) return undefined
    const part = toPart(headerBlock, body.subarray(dataStart, next))
    if (part === undefined) return undefined
    parts.push(part)
    pos = next + delimiter.length
  }
}

export function summarize(parts: MultipartPart[]): MultipartSummary[] {
  return parts.map((part) => {
    const summary: MultipartSummary = { name: part.name, size: part.data.length }
    if (part.filename !== undefined) summary.filename = part.filename
    if (part.contentType !== undefined) summary.contentType = part.contentType
    return summary
  })
}
