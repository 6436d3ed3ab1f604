import { GatewayError } from '../errors/gateway-error.js'
import { MaskingError, type Masker, type MaskHits, type SseEventIn, type StreamMasker } from '../masking/index.js'
import type { Masking } from '../masking/rule-masking.js'
import type { RequestContext } from '../pipeline/context.js'
import type { SseFrame } from '../pipeline/response.js'
import type { Stage } from '../pipeline/stage.js'
import { ObservedFrame } from '../response/observed-frame.js'
import { jsonOf, rememberJson, whole } from '../response/observed-json.js'
import { downloadKind, maskResultLines, maskTextFile } from './mask-downloads.js'

const SESSION_EVENTS = /^\/v1\/sessions\/[^/]+\/events$/
const SESSION_STREAM = /^\/v1\/sessions\/[^/]+\/events\/stream$/

/**
 * Masks the answer with the rule's profiles (SPEC §6). It reads what the response observer parsed
 * (observe-response.ts) and never parses again. Messages streams: per content block, only the tail
 * that could still become a match is held back; untouched events keep their original bytes and an
 * event is re-framed only when masking changed it. JSON: the message is masked and re-serialised
 * only when something changed. Managed Agents session events, streamed or listed, are masked one
 * whole event at a time (masking/session-events.ts). Batch results and text file downloads are
 * masked as they stream (mask-downloads.ts). A masking failure withholds the rest (`event: error`
 * once streaming) and never falls back to raw text.
 */
export const maskResponse = (masking: Masking): Stage =>
  async function maskResponse(ctx, next) {
    const masker = masking.forRule(ctx.decision?.rule)
    const response = ctx.response
    if (!masker || !response || response.status >= 300) return next()
    const type = String(response.headers['content-type'] ?? '')
    const body = response.body
    const download = downloadKind(ctx.path, type)
    if (download && body.kind === 'bytes') {
      // Lengths change and headers leave first: sent chunked.
      delete response.headers['content-length']
      const hits: MaskHits = {}
      ctx.responseMaskHits = hits
      const mask = download === 'batch-results' ? maskResultLines : maskTextFile
      response.body = { kind: 'bytes', chunks: mask(masker, body.chunks, hits) }
    } else if (ctx.endpoint?.name === 'messages') {
      if (body.kind === 'sse') {
        const stream = masker.createStreamMasker()
        ctx.responseMaskHits = stream.hits
        response.body = { kind: 'sse', events: maskFrames(stream, body.events) }
      } else if (type.includes('json')) {
        // The length may change, and headers leave before the body is masked: send it chunked.
        delete response.headers['content-length']
        response.body = { kind: 'bytes', chunks: maskJson(ctx, (value) => masker.maskMessage(value), body.chunks) }
      }
    } else if (ctx.method === 'GET' && SESSION_STREAM.test(ctx.path) && body.kind === 'sse') {
      const hits: MaskHits = {}
      ctx.responseMaskHits = hits
      response.body = { kind: 'sse', events: maskSessionFrames(masker, hits, body.events) }
    } else if (ctx.method === 'GET' && SESSION_EVENTS.test(ctx.path) && body.kind === 'bytes' && type.includes('json')) {
      delete response.headers['content-length']
      response.body = { kind: 'bytes', chunks: maskJson(ctx, (value) => maskEventPage(masker, value), body.chunks) }
    }
    return next()
  }

async function* maskFrames(stream: StreamMasker, frames: AsyncIterable<SseFrame>): AsyncGenerator<SseFrame> {
  for await (const raw of frames) {
    const frame = ObservedFrame.of(raw)
    const data = frame.json
    if (data === undefined) throw new GatewayError('GW_MASKING_FAILED', { detail: `event ${frame.event} has no JSON data` })
    const input: SseEventIn = { event: frame.event, data }
    for (const out of guarded(() => stream.push(input))) yield out === input ? frame : ObservedFrame.fromEvent(out.event, out.data)
  }
  for (const out of guarded(() => stream.end())) yield ObservedFrame.fromEvent(out.event, out.data)
}

/** Session events: each whole, masked alone; previews withheld (masking/session-events.ts). */
async function* maskSessionFrames(masker: Masker, hits: MaskHits, frames: AsyncIterable<SseFrame>): AsyncGenerator<SseFrame> {
  for await (const raw of frames) {
    const frame = ObservedFrame.of(raw)
    const data = frame.json
    // Comments and keep-alives carry no JSON and no content: passed as they are.
    if (data === undefined) {
      if (frame.data.trim() !== '') throw new GatewayError('GW_MASKING_FAILED', { detail: `session event ${frame.event} has no JSON data` })
      yield frame
      continue
    }
    const masked = guarded(() => masker.maskSessionEvent(data, hits))
    if (masked === undefined) continue
    yield masked === data ? frame : ObservedFrame.fromEvent(frame.event, masked)
  }
}

type MaskValue = (value: unknown) => { value: unknown; changed: boolean; hits: MaskHits }

/** A page of session events (`{data: [...], ...}`): each event masked; previews never appear in a list. */
function maskEventPage(masker: Masker, page: unknown): { value: unknown; changed: boolean; hits: MaskHits } {
  const hits: MaskHits = {}
  const events = typeof page === 'object' && page !== null && !Array.isArray(page) ? (page as { data?: unknown }).data : undefined
  if (!Array.isArray(events)) throw new MaskingError('the session events answer is not a page of events')
  let copy: unknown[] | undefined
  events.forEach((event: unknown, i) => {
    const masked = masker.maskSessionEvent(event, hits)
    if (masked !== event) (copy ??= events.slice())[i] = masked ?? null
  })
  return copy ? { value: { ...(page as object), data: copy.filter((e) => e !== null) }, changed: true, hits } : { value: page, changed: false, hits }
}

/** The whole JSON answer (one buffer, parsed once by the observer), masked; new bytes only when it changed. */
async function* maskJson(ctx: RequestContext, mask: MaskValue, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const bytes = await whole(chunks)
  const value = jsonOf(bytes)
  if (value === undefined) throw new GatewayError('GW_MASKING_FAILED', { detail: 'response body is not valid JSON; it cannot be masked' })
  const masked = guarded(() => mask(value))
  ctx.responseMaskHits = masked.hits
  yield masked.changed ? rememberJson(Buffer.from(JSON.stringify(masked.value)), masked.value) : bytes
}

function guarded<T>(run: () => T): T {
  try {
    return run()
  } catch (error) {
    if (error instanceof MaskingError) throw new GatewayError('GW_MASKING_FAILED', { detail: error.message, cause: error })
    throw error
  }
}
