import type { SseFrame } from '../pipeline/response.js'
import type { Stage } from '../pipeline/stage.js'
import { ObservedFrame } from '../response/observed-frame.js'
import { jsonOf, whole } from '../response/observed-json.js'
import { downloadKind } from './mask-downloads.js'

const usageMarker = Buffer.from('"usage"')

/**
 * THE response observer (issue #15), right after `forward`: every SSE event becomes an
 * `ObservedFrame` (name, data and JSON parsed at most once, on first use, shared by every later
 * stage), and a JSON answer is gathered into one buffer whose parse `jsonOf` shares the same way.
 * The stages after it consume those: own-responses (containers and files), mask-response, and
 * audit-close (event log and assembled message). It derives the one fact it owns on the way:
 * the Messages `usage` for budgets (`message_start` then cumulative `message_delta`, the last
 * report wins; `usage.iterations` included), read only from events that mention it, and only when
 * `countsUsage` says the rule's limits need it (nothing else reads it): for a rule without limits
 * a stream is not wrapped at all and a JSON answer is gathered without a parse.
 * Downloads (batch results, files) are not gathered: they stream, masked as they go.
 */
export const observeResponse = (countsUsage: (rule: string | undefined) => boolean = () => true): Stage =>
  async function observeResponse(ctx, next) {
    const response = ctx.response
    if (!response) return next()
    const seen = ctx.endpoint?.name === 'messages' && response.status < 300 && countsUsage(ctx.decision?.rule)
      ? (usage: unknown) => {
          if (typeof usage === 'object' && usage !== null) ctx.usage = Object.assign({}, ctx.usage, usage)
        }
      : undefined
    const body = response.body
    const type = String(response.headers['content-type'] ?? '')
    if (body.kind === 'sse') {
      // Forward already yields observed frames: with no usage to read there is nothing to wrap.
      if (seen) response.body = { kind: 'sse', frames: observeFrames(body.frames, seen) }
    } else if (type.includes('json') && downloadKind(ctx.path, type) === undefined) {
      response.body = { kind: 'bytes', chunks: observeWhole(body.chunks, seen) }
    }
    return next()
  }

type Seen = ((usage: unknown) => void) | undefined

async function* observeFrames(groups: AsyncIterable<readonly SseFrame[]>, seen: (usage: unknown) => void): AsyncGenerator<readonly SseFrame[]> {
  for await (const group of groups) {
    for (const raw of group) {
      const usage = reportedUsage(ObservedFrame.of(raw))
      if (usage !== undefined) seen(usage)
    }
    yield group
  }
}

/**
 * The usage a stream event reports: `message_start`'s message's, or `message_delta`'s own (cumulative).
 * The name first: usage comes only in these two, and later stages parse every name anyway
 * (bench/lib/micro.mjs runs it too).
 */
export function reportedUsage(frame: ObservedFrame): unknown {
  const event = frame.event
  if ((event !== 'message_delta' && event !== 'message_start') || !frame.mentions(usageMarker)) return undefined
  const data = frame.json as { message?: { usage?: unknown }; usage?: unknown } | undefined
  return event === 'message_delta' ? data?.usage : data?.message?.usage
}

/** One buffer for the whole answer: every later reader shares its parse (`jsonOf`). */
async function* observeWhole(chunks: AsyncIterable<Uint8Array>, seen: Seen): AsyncGenerator<Uint8Array> {
  const bytes = await whole(chunks)
  if (bytes.byteLength === 0) return
  if (seen) seen((jsonOf(bytes) as { usage?: unknown } | undefined)?.usage)
  yield bytes
}
