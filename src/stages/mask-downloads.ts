import { GatewayError } from '../errors/gateway-error.js'
import { MaskingError, type Masker, type MaskHits } from '../masking/index.js'
import { linesOf, wholeLineBlocks, type ObservedLine } from '../response/observed-lines.js'

/**
 * Model and user content also comes back outside `/v1/messages` (issue #12): batch results, one
 * JSON line per request, and file downloads. Both are masked while they stream, never buffered
 * whole: results line by line (a line is re-serialised only when masking changed it), text files
 * through the same hold-back scanner as a streamed text block. Binary files (skill outputs: xlsx,
 * pdf, …) pass unchanged; the audit records their size and SHA-256.
 */
export type DownloadKind = 'batch-results' | 'text-file'

const BATCH_RESULTS = /^\/v1\/messages\/batches\/[^/]+\/results$/
const FILE_CONTENT = /^\/v1\/files\/[^/]+\/content$/

/** `GET /v1/messages/batches/{id}/results`: one JSON line per request of the batch. */
export const isBatchResultsPath = (path: string): boolean => BATCH_RESULTS.test(path)

export function downloadKind(path: string, contentType: string): DownloadKind | undefined {
  if (isBatchResultsPath(path)) return 'batch-results'
  if (FILE_CONTENT.test(path) && isTextType(contentType)) return 'text-file'
  return undefined
}

/** Types whose bytes are text a person or a model wrote (a charset may follow). */
export function isTextType(contentType: string): boolean {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? ''
  return type.startsWith('text/') || type === 'application/json' || type === 'application/x-ndjson' || type === 'application/jsonl' ||
    type === 'application/xml' || type === 'application/javascript' || type === 'application/x-yaml' || type === 'application/yaml' ||
    type.endsWith('+json') || type.endsWith('+xml')
}

const NEWLINE = 0x0a
const NEWLINE_BYTE = Buffer.from('\n')

/** Batch results: each complete line masked as it arrives; `hits` accumulates per detector. */
export async function* maskResultLines(masker: Masker, chunks: AsyncIterable<Uint8Array>, hits: MaskHits): AsyncGenerator<Uint8Array> {
  for await (const block of wholeLineBlocks(chunks)) yield maskLines(masker, block, hits)
}

/** Lines parsed once, shared with own-responses (`linesOf`); the block comes back as is when nothing changed. */
function maskLines(masker: Masker, block: Buffer, hits: MaskHits): Buffer {
  const out: Buffer[] = []
  let changed = false
  const lines = linesOf(block)
  lines.forEach((line, i) => {
    const masked = maskResultLine(masker, line, hits)
    changed ||= masked !== line.bytes
    out.push(masked)
    // Every line but a last one without its newline ends in one.
    if (i < lines.length - 1 || block[block.length - 1] === NEWLINE) out.push(NEWLINE_BYTE)
  })
  return changed ? Buffer.concat(out) : block
}

/** `{"custom_id", "result": {"type": "succeeded", "message": {…}}}`: the message is masked. */
function maskResultLine(masker: Masker, line: ObservedLine, hits: MaskHits): Buffer {
  if (line.blank) return line.bytes
  const entry = line.json
  if (entry === undefined) throw new GatewayError('GW_MASKING_FAILED', { detail: 'a batch result line is not JSON' })
  const result = isObject(entry) ? entry.result : undefined
  if (!isObject(entry) || !isObject(result) || !isObject(result.message)) return line.bytes
  // The parsed message itself: no round trip through JSON text to mask it.
  const masked = guarded(() => masker.maskMessage(result.message))
  addHits(hits, masked.hits)
  if (!masked.changed) return line.bytes
  return Buffer.from(JSON.stringify({ ...entry, result: { ...result, message: masked.value } }))
}

/** A text file: decoded as UTF-8 across chunk boundaries and masked with exact hold-back. */
export async function* maskTextFile(masker: Masker, chunks: AsyncIterable<Uint8Array>, hits: MaskHits): AsyncGenerator<Uint8Array> {
  const decoder = new TextDecoder('utf-8')
  const text = masker.createTextMasker()
  try {
    for await (const chunk of chunks) {
      const out = guarded(() => text.push(decoder.decode(chunk, { stream: true })))
      if (out !== '') yield Buffer.from(out, 'utf8')
    }
    const rest = guarded(() => text.push(decoder.decode()) + text.end())
    if (rest !== '') yield Buffer.from(rest, 'utf8')
  } finally {
    addHits(hits, text.hits)
  }
}

function addHits(into: MaskHits, from: MaskHits): void {
  for (const [name, count] of Object.entries(from)) into[name] = (into[name] ?? 0) + count
}

function guarded<T>(run: () => T): T {
  try {
    return run()
  } catch (error) {
    if (error instanceof MaskingError) throw new GatewayError('GW_MASKING_FAILED', { detail: error.message, cause: error })
    throw error
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
