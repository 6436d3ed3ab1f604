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

/**
 * A whole client session (`clientSession`, e.g. one Claude Code session of several turns) as one
 * stream: its records oldest first, each announced by a `skillgate_turn` event (record id, start,
 * endpoint, model, status, outcome), then its recorded events (a JSON answer as one `message` event),
 * with the pauses between turns and inside each stream as recorded, divided by `speed`.
 *
 * @example
 * const { records } = await store.list({ clientSession, principal, limit: 1000 })
 * for await (const frame of replaySession(records, { speed: Infinity })) process.stdout.write(sseText(frame))
 */
export async function* replaySession(records: readonly AuditRecord[], options: ReplayOptions = {}): AsyncGenerator<ReplayFrame> {
  const speed = options.speed ?? 1
  if (!(speed > 0)) throw new TypeError('speed must be greater than 0')
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms, undefined, options.signal ? { signal: options.signal } : {}))
  const turns = [...records].sort((a, b) => a.time.start.localeCompare(b.time.start) || a.id.localeCompare(b.id))
  const origin = Date.parse(turns[0]?.time.start ?? '')
  let clock = 0
  for (const record of turns) {
    const at = Date.parse(record.time.start) - origin
    const wait = (at - clock) / speed
    if (wait > 0 && Number.isFinite(wait)) await sleep(wait)
    clock = at
    if (options.signal?.aborted) return
    yield { event: 'skillgate_turn', data: JSON.stringify(turnSummary(record)), t: at }
    if (record.response?.kind === 'sse') {
      for await (const frame of replayRecord(record, options)) yield { ...frame, t: at + frame.t }
      clock = at + (record.response.events.at(-1)?.t ?? 0)
    } else if (record.response?.kind === 'json') {
      yield { event: 'message', data: JSON.stringify(record.response.body), t: at }
    }
  }
}

function turnSummary(record: AuditRecord) {
  return { id: record.id, start: record.time.start, principal: record.principal, clientSession: record.clientSession, endpoint: record.endpoint, model: record.model, status: record.status, outcome: record.outcome }
}
