import type { SseFrame } from '../pipeline/response.js'
import type { Stage } from '../pipeline/stage.js'
import { parseSseEvent } from '../sse/parse-event.js'

const usageMarker = Buffer.from('"usage"')

/**
 * Learns the token usage of Messages responses without delaying or changing them (for budgets;
 * `message_delta` totals are cumulative, so the last one wins). Only events that mention usage are
 * parsed. Who owns the containers and files a response creates is recorded by own-responses.ts.
 */
export const observeResponse = (): Stage =>
  async function observeResponse(ctx, next) {
    const response = ctx.response
    if (response && ctx.endpoint?.name === 'messages' && response.status < 300) {
      const seen = (usage: unknown) => {
        if (typeof usage === 'object' && usage !== null) ctx.usage = { ...ctx.usage, ...(usage as Record<string, unknown>) }
      }
      const body = response.body
      response.body = body.kind === 'sse' ? { kind: 'sse', events: watchFrames(body.events, seen) } : { kind: 'bytes', chunks: watchJson(body.chunks, seen) }
    }
    return next()
  }

type Seen = (usage: unknown) => void

async function* watchFrames(frames: AsyncIterable<SseFrame>, seen: Seen) {
  for await (const frame of frames) {
    const raw = Buffer.from(frame.raw.buffer, frame.raw.byteOffset, frame.raw.byteLength)
    if (raw.includes(usageMarker)) {
      const event = parseSseEvent(frame.raw)
      const data = safeParse(event.data) as { message?: { usage?: unknown }; usage?: unknown } | undefined
      if (event.event === 'message_delta') seen(data?.usage)
      else if (event.event === 'message_start') seen(data?.message?.usage)
    }
    yield frame
  }
}

async function* watchJson(chunks: AsyncIterable<Uint8Array>, seen: Seen) {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) {
    parts.push(chunk)
    yield chunk
  }
  const message = safeParse(Buffer.concat(parts).toString('utf8')) as { usage?: unknown } | undefined
  seen(message?.usage)
}


function safeParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
