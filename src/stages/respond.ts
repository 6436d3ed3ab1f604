import type { ServerResponse } from 'node:http'
import { GatewayError } from '../errors/gateway-error.js'
import { asGatewayError, sseErrorFrame } from '../errors/to-response.js'
import type { RequestContext } from '../pipeline/context.js'
import type { Stage } from '../pipeline/stage.js'

/**
 * Writes the (possibly transformed) upstream response to the client. SSE goes out event by event and
 * is flushed as each event completes; a failure after the headers went out becomes an `event: error`
 * frame (anthropic-api.md §17.6), because the status line can no longer change.
 */
export const respond = (): Stage =>
  async function respond(ctx, next) {
    const response = ctx.response
    if (!response) throw new GatewayError('GW_INTERNAL', { detail: 'respond ran before forward' })
    const res = ctx.outgoing
    const headers: Record<string, string | string[]> = { ...response.headers, 'skillgate-request-id': ctx.id }
    if (response.body.kind === 'sse') {
      delete headers['content-length']
      headers['cache-control'] ??= 'no-cache'
    }
    // A byte body (JSON) can still fail before its first chunk (audit completion): keep the status line open until then.
    let iterator: AsyncIterator<Uint8Array> | undefined
    let first: IteratorResult<Uint8Array> | undefined
    if (response.body.kind === 'bytes') {
      iterator = response.body.chunks[Symbol.asyncIterator]()
      first = await iterator.next()
    }
    res.writeHead(response.status, headers)
    res.flushHeaders()
    ctx.firstByteAt = Date.now()
    try {
      if (response.body.kind === 'sse') {
        for await (const frame of response.body.events) await write(res, frame.raw)
      } else if (iterator && first) {
        for (let r = first; !r.done; r = await iterator.next()) await write(res, r.value)
      }
      res.end()
      ctx.outcome = 'completed'
    } catch (error) {
      endAfterFailure(ctx, error)
    }
    return next()
  }

const uncork = (res: ServerResponse) => res.uncork()

function endAfterFailure(ctx: RequestContext, error: unknown): void {
  const res = ctx.outgoing
  if (ctx.signal.aborted || res.destroyed) {
    ctx.outcome = 'interrupted'
    return
  }
  ctx.outcome = 'error'
  const failure = asGatewayError(error)
  ctx.log.warn({ code: failure.code, detail: failure.detail }, 'response failed after headers were sent')
  if (ctx.response?.body.kind === 'sse') res.end(sseErrorFrame(failure, ctx.id))
  else res.destroy()
}

/**
 * Writes with backpressure; resolves early if the client goes away (the signal aborts the upstream).
 * Writes made in the same tick are corked together: events that arrived in one upstream chunk leave
 * in one socket write, while an event that arrives alone still goes out at once.
 */
function write(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  res.cork()
  process.nextTick(uncork, res)
  if (res.write(chunk)) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}
