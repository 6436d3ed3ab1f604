import type { ContainerOwners } from '../policy/container-owners.js'
import type { SseFrame } from '../pipeline/response.js'
import type { Stage } from '../pipeline/stage.js'
import { parseSseEvent } from '../sse/parse-event.js'

const marker = Buffer.from('"container"')

/**
 * Learns which principal owns each code-execution container from the responses that create them
 * (`container.id` in a JSON message, or in `message_delta` of a stream), so policy can refuse the
 * container to anyone else. Only Messages responses are read; nothing is delayed or changed.
 */
export const bindContainers = (containers: ContainerOwners): Stage =>
  async function bindContainers(ctx, next) {
    const principal = ctx.decision?.principal
    const response = ctx.response
    if (principal && response && ctx.endpoint?.name === 'messages' && response.status < 300) {
      const remember = (message: unknown) => {
        const id = containerId(message)
        if (id) containers.remember(id, principal)
      }
      const body = response.body
      response.body = body.kind === 'sse' ? { kind: 'sse', events: watchFrames(body.events, remember) } : { kind: 'bytes', chunks: watchJson(body.chunks, remember) }
    }
    return next()
  }

async function* watchFrames(frames: AsyncIterable<SseFrame>, remember: (message: unknown) => void) {
  for await (const frame of frames) {
    // Cheap pre-check: only events that mention a container are parsed.
    if (Buffer.from(frame.raw.buffer, frame.raw.byteOffset, frame.raw.byteLength).includes(marker)) {
      const event = parseSseEvent(frame.raw)
      const data = safeParse(event.data) as { delta?: unknown; message?: unknown } | undefined
      if (event.event === 'message_delta') remember(data?.delta)
      else if (event.event === 'message_start') remember(data?.message)
    }
    yield frame
  }
}

async function* watchJson(chunks: AsyncIterable<Uint8Array>, remember: (message: unknown) => void) {
  const seen: Uint8Array[] = []
  for await (const chunk of chunks) {
    seen.push(chunk)
    yield chunk
  }
  const body = Buffer.concat(seen)
  if (body.includes(marker)) remember(safeParse(body.toString('utf8')))
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
