import { GatewayError } from '../errors/gateway-error.js'
import { MaskingError, type Masker, type MaskHits, type SseEventIn, type StreamMasker } from '../masking/index.js'
import type { Masking } from '../masking/rule-masking.js'
import type { RequestContext } from '../pipeline/context.js'
import type { SseFrame } from '../pipeline/response.js'
import type { Stage } from '../pipeline/stage.js'
import { parseSseEvent, serializeSseEvent } from '../sse/parse-event.js'
import { downloadKind, maskResultLines, maskTextFile } from './mask-downloads.js'

/**
 * Masks the answer with the rule's profiles (SPEC §6). Streams: per content block, only the tail
 * that could still become a match is held back; untouched events keep their original bytes.
 * JSON: the whole message is masked and re-serialised only when something changed. Batch results
 * and text file downloads are masked as they stream (mask-downloads.ts). A masking
 * failure withholds the rest (`event: error` once streaming) and never falls back to raw text.
 */
export const maskResponse = (masking: Masking): Stage =>
  async function maskResponse(ctx, next) {
    const masker = masking.forRule(ctx.decision?.rule)
    const response = ctx.response
    const download = masker && response && response.status < 300 ? downloadKind(ctx.path, String(response.headers['content-type'] ?? '')) : undefined
    if (masker && response && download && response.body.kind === 'bytes') {
      // Lengths change and headers leave first: sent chunked.
      delete response.headers['content-length']
      const hits: MaskHits = {}
      ctx.responseMaskHits = hits
      const mask = download === 'batch-results' ? maskResultLines : maskTextFile
      response.body = { kind: 'bytes', chunks: mask(masker, response.body.chunks, hits) }
    } else if (masker && response && ctx.endpoint?.name === 'messages' && response.status < 300) {
      const body = response.body
      if (body.kind === 'sse') {
        const stream = masker.createStreamMasker()
        ctx.responseMaskHits = stream.hits
        response.body = { kind: 'sse', events: maskFrames(stream, body.events) }
      } else if (String(response.headers['content-type'] ?? '').includes('json')) {
        // The length may change, and headers leave before the body is masked: send it chunked.
        delete response.headers['content-length']
        response.body = { kind: 'bytes', chunks: maskJson(ctx, masker, body.chunks) }
      }
    }
    return next()
  }

async function* maskFrames(stream: StreamMasker, frames: AsyncIterable<SseFrame>): AsyncGenerator<SseFrame> {
  for await (const frame of frames) {
    const input = toEvent(frame)
    for (const out of guarded(() => stream.push(input))) yield out === input ? frame : { raw: toFrame(out) }
  }
  for (const out of guarded(() => stream.end())) yield { raw: toFrame(out) }
}

async function* maskJson(ctx: RequestContext, masker: Masker, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk)
  const { body, hits } = guarded(() => masker.maskMessageJson(Buffer.concat(parts)))
  ctx.responseMaskHits = hits
  yield body
}

function toEvent(frame: SseFrame): SseEventIn {
  const { event, data } = parseSseEvent(frame.raw)
  try {
    return { event, data: JSON.parse(data) }
  } catch {
    throw new GatewayError('GW_MASKING_FAILED', { detail: `event ${event} has no JSON data` })
  }
}

const toFrame = (event: SseEventIn) => serializeSseEvent(event.event, JSON.stringify(event.data))

function guarded<T>(run: () => T): T {
  try {
    return run()
  } catch (error) {
    if (error instanceof MaskingError) throw new GatewayError('GW_MASKING_FAILED', { detail: error.message, cause: error })
    throw error
  }
}
