import type { ContainerOwners } from '../policy/container-owners.js'
import type { SseFrame } from '../pipeline/response.js'
import type { Stage } from '../pipeline/stage.js'
import { parseSseEvent } from '../sse/parse-event.js'

const containerMarker = Buffer.from('"container"')
const usageMarker = Buffer.from('"usage"')

/**
 * Learns from Messages responses without delaying or changing them: the token usage (for budgets;
 * `message_delta` totals are cumulative, so the last one wins) and which principal owns each
 * code-execution container it creates, so policy can refuse the container to anyone else. Only
 * events that mention usage or a container are parsed.
 */
export const observeResponse = (containers: ContainerOwners): Stage =>
  async function observeResponse(ctx, next) {
    const principal = ctx.decision?.principal
    const response = ctx.response
    if (response && ctx.endpoint?.name === 'messages' && response.status < 300) {
      const seen = (message: unknown, usage: unknown) => {
        const id = containerId(message)
        if (id && principal) containers.remember(id, principal)
        if (typeof usage === 'object' && usage !== null) ctx.usage = { ...ctx.usage, ...(usage as Record<string, unknown>) }
      }
      const body = response.body
      response.body = body.kind === 'sse' ? { kind: 'sse', events: watchFrames(body.events, seen) } : { kind: 'bytes', chunks: watchJson(body.chunks, seen) }
    }
    return next()
  }

type Seen = (message: unknown, usage: unknown) => void

async function* watchFrames(frames: AsyncIterable<SseFrame>, seen: Seen) {
  for await (const frame of frames) {
    const raw = Buffer.from(frame.raw.buffer, frame.raw.byteOffset, frame.raw.byteLength)
    if (raw.includes(usageMarker) || raw.includes(containerMarker)) {
      const event = parseSseEvent(frame.raw)
      const data = safeParse(event.data) as { delta?: unknown; message?: { usage?: unknown }; usage?: unknown } | undefined
      if (event.event === 'message_delta') seen(data?.delta, data?.usage)
      else if (event.event === 'message_start') seen(data?.message, data?.message?.usage)
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
  seen(message, message?.usage)
}

function containerId(message: unknown): string | undefined {
  const container = typeof message === 'object' && message !== null ? (message as { container?: unknown }).container : undefined
  const id = typeof container === 'object' && container !== null ? (container as { id?: unknown }).id : undefined
  return typeof id === 'string' ? id : undefined
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
