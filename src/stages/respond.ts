import { GatewayError } from '../errors/gateway-error.js'
import { asGatewayError, sseErrorFrame } from '../errors/to-response.js'
import type { RequestContext } from '../pipeline/context.js'
import type { Stage } from '../pipeline/stage.js'
import { Outbox } from '../response/outbox.js'

/**
 * Writes the (possibly transformed) upstream response to the client. SSE goes out in the groups of
 * whole events the stages pass on (what one upstream read completed); a failure after the headers
 * went out becomes an `event: error` frame (anthropic-api.md §17.6), because the status line can no
 * longer change. What is ready in one turn of the event loop (the headers, the events of one
 * upstream read, the end) leaves in one socket write (response/outbox.ts).
 */
export const respond = (): Stage =>
  async function respond(ctx, next) {
    const response = ctx.response
    if (!response) throw new GatewayError('GW_INTERNAL', { detail: 'respond ran before forward' })
    const res = ctx.outgoing
    const headers = headerList(response.headers, ctx.id, response.body.kind === 'sse')
    // A byte body (JSON) can still fail before its first chunk (audit completion): keep the status line open until then.
    let iterator: AsyncIterator<Uint8Array> | undefined
    let first: IteratorResult<Uint8Array> | undefined
    if (response.body.kind === 'bytes') {
      iterator = response.body.chunks[Symbol.asyncIterator]()
      first = await iterator.next()
    }
    res.writeHead(response.status, headers)
    const out = new Outbox(res, () => ctx.outputHold)
    ctx.firstByteAt = Date.now()
    try {
      if (response.body.kind === 'sse') {
        for await (const group of response.body.frames) {
          let blocked: Promise<void> | undefined
          for (const frame of group) blocked = out.add(frame.raw)
          if (blocked) await blocked
        }
      } else if (iterator && first) {
        for (let r = first; !r.done; r = await iterator.next()) {
          const blocked = out.add(r.value)
          if (blocked) await blocked
        }
      }
      out.end()
      ctx.outcome = 'completed'
    } catch (error) {
      out.flush()
      endAfterFailure(ctx, error)
    }
    return next()
  }

/**
 * The client's headers as the flat name/value list `writeHead` takes as is: built in one pass, with
 * no copy of the upstream's object and no `delete` on it. SSE has no length and is not cached.
 */
function headerList(upstream: Readonly<Record<string, string | string[]>>, id: string, sse: boolean): Array<string | string[]> {
  const list: Array<string | string[]> = []
  for (const name in upstream) {
    if (name === 'skillgate-request-id' || (sse && name === 'content-length') || !Object.hasOwn(upstream, name)) continue
    list.push(name, upstream[name] as string | string[])
  }
  list.push('skillgate-request-id', id)
  if (sse && upstream['cache-control'] === undefined) list.push('cache-control', 'no-cache')
  return list
}

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
