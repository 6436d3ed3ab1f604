import { GatewayError } from '../errors/gateway-error.js'
import type { ResponseBody } from '../pipeline/response.js'
import type { Stage } from '../pipeline/stage.js'
import { ObservedFrame } from '../response/observed-frame.js'
import { SseFramer } from '../sse/framer.js'
import { toGatewayError, type UpstreamClient } from '../upstream/client.js'
import { filterResponseHeaders } from '../upstream/forwarded-headers.js'

/**
 * Sends the request upstream: the original bytes, the original query string, the headers the
 * inject stage built. Upstream errors (429, 529, …) come back as responses and pass through
 * unchanged; only transport failures become gateway errors (502/504).
 */
export const forward = (upstream: UpstreamClient): Stage =>
  async function forward(ctx, next) {
    if (!ctx.upstreamHeaders) throw new GatewayError('GW_INTERNAL', { detail: 'forward ran before inject-credential' })
    ctx.upstreamSentAt = performance.now()
    const answer = await upstream.send({
      method: ctx.method,
      path: ctx.path + ctx.search,
      headers: ctx.upstreamHeaders,
      body: ctx.body,
      signal: ctx.signal,
    })
    ctx.upstreamHeadersAt = performance.now()
    const headers = filterResponseHeaders(answer.headers)
    const contentType = String(headers['content-type'] ?? '')
    const body: ResponseBody = contentType.startsWith('text/event-stream')
      ? { kind: 'sse', frames: relayFrames(answer.body) }
      : { kind: 'bytes', chunks: relayChunks(answer.body) }
    ctx.response = { status: answer.status, headers, body }
    return next()
  }

/** Framed here, in the one generator, the events of each read as one group (pipeline/response.ts). */
async function* relayFrames(body: AsyncIterable<Uint8Array>): AsyncGenerator<readonly ObservedFrame[]> {
  try {
    // undici hands each body chunk over as a view of its own socket read, never reused: no copies.
    const framer = new SseFramer(undefined, { chunksStayUnchanged: true })
    for await (const chunk of body) {
      const events = framer.push(chunk)
      if (events.length > 0) yield events.map((raw) => ObservedFrame.fromRaw(raw))
    }
    const rest = framer.end()
    if (rest) yield [ObservedFrame.fromRaw(rest)]
  } catch (error) {
    throw streamFailure(error)
  }
}

async function* relayChunks(body: AsyncIterable<Uint8Array>) {
  try {
    yield* body
  } catch (error) {
    throw streamFailure(error)
  }
}

function streamFailure(error: unknown): unknown {
  const mapped = toGatewayError(error)
  if (!(mapped instanceof GatewayError)) return mapped
  return new GatewayError('GW_UPSTREAM_STREAM_FAILED', { detail: mapped.detail ?? 'upstream stream failed', cause: error })
}
