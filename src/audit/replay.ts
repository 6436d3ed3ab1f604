import { setTimeout as sleepFor } from 'node:timers/promises'
import type { AuditRecord } from './record.js'

/**
 * Re-emits a recorded stream with its original timing (`skillgate audit replay`, the console's
 * replay view). The events are the masked ones the client received; nothing is re-masked or
 * re-requested.
 */

export interface ReplayFrame {
  readonly event: string
  readonly data: string
  /** Offset from the record's start, as recorded. */
  readonly t: number
}

export interface ReplayOptions {
  /** 2 = twice as fast; Infinity = no waiting. Default 1. */
  readonly speed?: number
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<unknown>
  readonly signal?: AbortSignal
}

/**
 * @example
 * for await (const frame of replayRecord(record, { speed: 4 })) process.stdout.write(sseText(frame))
 */
export async function* replayRecord(record: AuditRecord, options: ReplayOptions = {}): AsyncGenerator<ReplayFrame> {
  const response = record.response
  if (response?.kind !== 'sse') throw new TypeError(`record ${record.id} has no recorded stream to replay`)
  const speed = options.speed ?? 1
  if (!(speed > 0)) throw new TypeError('speed must be greater than 0')
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms, undefined, options.signal ? { signal: options.signal } : {}))
  let previous = response.events[0]?.t ?? 0
  for (const event of response.events) {
    const wait = (event.t - previous) / speed
    previous = event.t
    if (wait > 0 && Number.isFinite(wait)) await sleep(wait)
    if (options.signal?.aborted) return
    yield { event: event.event, data: event.data, t: event.t }
  }
}

/** One frame as SSE text; a multi-line data value becomes several `data:` lines (WHATWG SSE). */
export function sseText(frame: Pick<ReplayFrame, 'event' | 'data'>): string {
  if (/[\r\n]/.test(frame.event)) throw new TypeError('event names must not contain line breaks')
  const data = frame.data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join('\n')
  return `event: ${frame.event}\n${data}\n\n`
}
