/**
 * Writes a planned reply as an SSE response. Without a frame delay the whole stream goes out in one
 * write (the benchmark path); with a delay each frame is written and flushed on its own. A stream can be
 * cut after N content deltas, either with an `event: error` (reference §17.6) or by dropping the socket.
 */
import { baseHeaders, sleep } from './http-io.js'
import { errorFrame, streamFrames } from './message-shape.js'
import type { Frame } from './message-shape.js'
import type { ReplyPlan } from './reply-plan.js'
import type { Ctx } from './types.js'

export interface StreamOptions {
  delayMs: number
  /** `mock-stream-error-after`: emit `event: error` after this many deltas, then end (no message_stop). */
  errorAfter?: number
  /** `mock-stream-reset-after`: destroy the socket after this many deltas. */
  resetAfter?: number
}

/** Index of the first frame NOT sent: the (n+1)th delta, or message_delta when there are fewer deltas. */
export function cutIndex(frames: Frame[], n: number): number {
  let deltas = 0
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]
    if (f === undefined) continue
    if (f.delta) {
      if (deltas === n) return i
      deltas++
    }
    if (f.messageDelta) return i
  }
  return frames.length
}

/** Resolves once the chunk is flushed to the socket, or when the response closes first. */
function write(ctx: Ctx, text: string): Promise<void> {
  return new Promise((resolve) => {
    const { res } = ctx
    if (res.destroyed) {
      resolve()
      return
    }
    const done = (): void => {
      res.off('close', done)
      resolve()
    }
    res.once('close', done)
    res.write(text, done)
  })
}

async function writeFrames(ctx: Ctx, frames: Frame[], delayMs: number): Promise<boolean> {
  if (delayMs <= 0) {
    if (frames.length > 0) await write(ctx, frames.map((f) => f.text).join(''))
    return !ctx.res.destroyed
  }
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]
    if (f === undefined) continue
    if (i > 0 && !(await sleep(ctx.res, delayMs))) return false
    await write(ctx, f.text)
    if (ctx.res.destroyed) return false
  }
  return true
}

export async function writeStream(ctx: Ctx, plan: ReplyPlan, options: StreamOptions): Promise<void> {
  const frames = streamFrames(plan)
  const cutAfter = options.errorAfter ?? options.resetAfter
  const cut = cutAfter === undefined ? frames.length : cutIndex(frames, cutAfter)
  ctx.res.writeHead(200, {
    ...baseHeaders(ctx.requestId),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  })
  if (cutAfter === undefined && options.delayMs <= 0) {
    // The benchmark path: headers and the whole stream in one writev.
    ctx.res.end(frames.map((f) => f.text).join(''))
    return
  }
  const completed = await writeFrames(ctx, frames.slice(0, cut), options.delayMs)
  if (!completed) return
  if (options.errorAfter !== undefined) {
    if (!(await sleep(ctx.res, options.delayMs))) return
    ctx.res.end(errorFrame('overloaded_error', 'Overloaded', ctx.requestId))
  } else if (options.resetAfter !== undefined) {
    // The frames above are already flushed to the kernel (write callback), so the client sees them.
    ctx.req.socket.destroy()
  } else {
    ctx.res.end()
  }
}
