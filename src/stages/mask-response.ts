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
        response.body = { kind: 'sse', frames: maskFrames(stream, body.frames) }
      } else if (type.includes('json')) {
        // The length may change, and headers leave before the body is masked: send it chunked.
        delete response.headers['content-length']
        response.body = { kind: 'bytes', chunks: maskJson(ctx, (value) => masker.maskMessage(value), body.chunks) }
      }
    } else if (ctx.method === 'GET' && SESSION_STREAM.test(ctx.path) && body.kind === 'sse') {
      const hits: MaskHits = {}
      ctx.responseMaskHits = hits
      response.body = { kind: 'sse', frames: maskSessionFrames(masker, hits, body.frames) }
    } else if (ctx.method === 'GET' && SESSION_EVENTS.test(ctx.path) && body.kind === 'bytes' && type.includes('json')) {
      delete response.headers['content-length']
      response.body = { kind: 'bytes', chunks: maskJson(ctx, (value) => maskEventPage(masker, value), body.chunks) }
    }
    return next()
  }

/** Each group of events masked into a group of what the client may see (empty groups are not passed on). */
async function* maskFrames(stream: StreamMasker, groups: AsyncIterable<readonly SseFrame[]>): AsyncGenerator<readonly SseFrame[]> {
  for await (const group of groups) yield* maskedGroup(group, (raw, out) => {
    const frame = ObservedFrame.of(raw)
    const data = frame.json
    if (data === undefined) throw new GatewayError('GW_MASKING_FAILED', { detail: `event ${frame.event} has no JSON data` })
    const input: SseEventIn = { event: frame.event, data }
    for (const made of guarded(() => stream.push(input))) out.push(made === input ? frame : ObservedFrame.fromEvent(made.event, made.data))
  })
  const rest = guarded(() => stream.end()).map((made) => ObservedFrame.fromEvent(made.event, made.data))
  if (rest.length > 0) yield rest
}

/** Session events: each whole, masked alone; previews withheld (masking/session-events.ts). */
async function* maskSessionFrames(masker: Masker, hits: MaskHits, groups: AsyncIterable<readonly SseFrame[]>): AsyncGenerator<readonly SseFrame[]> {
  for await (const group of groups) yield* maskedGroup(group, (raw, out) => {
    const frame = ObservedFrame.of(raw)
    const data = frame.json
    // Comments and keep-alives carry no JSON and no content: passed as they are.
    if (data === undefined) {
      if (frame.data.trim() !== '') throw new GatewayError('GW_MASKING_FAILED', { detail: `session event ${frame.event} has no JSON data` })
      out.push(frame)
      return
    }
    const masked = guarded(() => masker.maskSessionEvent(data, hits))
    if (masked !== undefined) out.push(masked === data ? frame : ObservedFrame.fromEvent(frame.event, masked))
  })
}

/**
 * One group through `mask`, event by event. When an event fails, what was masked before it in the
 * group still goes out (as it would have one event at a time), then the failure.
 */
function* maskedGroup(group: readonly SseFrame[], mask: (frame: SseFrame, out: SseFrame[]) => void): Generator<readonly SseFrame[]> {
  const out: SseFrame[] = []
  try {
    for (const frame of group) mask(frame, out)
  } catch (error) {
    if (out.length > 0) yield out
    throw error
  }
  if (out.length > 0) yield out
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
