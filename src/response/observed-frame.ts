import type { SseFrame } from '../pipeline/response.js'
import { parseSseEvent, serializeJsonEvent } from '../sse/parse-event.js'

const UNPARSED: unique symbol = Symbol('unparsed')
const INVALID: unique symbol = Symbol('invalid JSON')

/**
 * One SSE event of a response, parsed at most once however many stages read it (issue #15): the
 * name and data text on first access, the data's JSON on first access, both memoised. An event the
 * upstream sent keeps its original bytes (`changed` false); one a stage made (masking) is framed
 * from its JSON only when its bytes are first asked for. Readers must not mutate `json`: every
 * stage after the one that parsed it sees the same object.
 */
export class ObservedFrame implements SseFrame {
  #raw: Buffer | undefined
  #event: string | undefined
  #data: string | undefined
  #json: unknown = UNPARSED
  /** True when a stage replaced the upstream's event: its bytes are new. */
  readonly changed: boolean

  private constructor(raw: Buffer | undefined, event: string | undefined, json: unknown) {
    this.#raw = raw
    this.#event = event
    if (raw === undefined) this.#json = json
    this.changed = raw === undefined
  }

  /** An event as the upstream framed it (the framer's Buffers are kept as they are, not copied). */
  static fromRaw(raw: Uint8Array): ObservedFrame {
    return new ObservedFrame(Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), undefined, undefined)
  }

  /** The frame itself when it is already observed (the usual case past the observer stage). */
  static of(frame: SseFrame): ObservedFrame {
    return frame instanceof ObservedFrame ? frame : ObservedFrame.fromRaw(frame.raw)
  }

  /** An event a stage made or rewrote; framed (`JSON.stringify`) only when its bytes are needed. */
  static fromEvent(event: string, json: unknown): ObservedFrame {
    return new ObservedFrame(undefined, event, json)
  }

  /** The bytes the client receives. */
  get raw(): Uint8Array {
    // A made event's data is JSON.stringify output: one line, nothing to split.
    return (this.#raw ??= serializeJsonEvent(this.event, this.data))
  }

  /** The event name (`message` when the frame names none). */
  get event(): string {
    if (this.#event === undefined) this.#parseFrame()
    return this.#event as string
  }

  /** The data text, exactly as sent (several `data:` lines joined by "\n"). */
  get data(): string {
    if (this.#data === undefined) {
      if (this.#raw !== undefined) this.#parseFrame()
      else this.#data = JSON.stringify(this.#json) ?? "null"
    }
    return this.#data as string
  }

  /** The data parsed as JSON; undefined when it is not JSON (see `hasJson`). */
  get json(): unknown {
    if (this.#json === UNPARSED) {
      try {
        this.#json = JSON.parse(this.data) as unknown
      } catch {
        this.#json = INVALID
      }
    }
    return this.#json === INVALID ? undefined : this.#json
  }

  /** Whether the data is JSON (parses it if nobody has yet). */
  get hasJson(): boolean {
    return this.json !== undefined || this.#json !== INVALID
  }

  /**
   * Whether the event's bytes contain `marker` (e.g. `"usage"`): a reader that needs only some
   * events looks before it makes anyone parse the rest. A made event answers from its JSON text.
   */
  mentions(marker: Buffer): boolean {
    if (this.#raw !== undefined) return this.#raw.includes(marker)
    return this.data.includes(marker.toString('utf8'))
  }

  #parseFrame(): void {
    const parsed = parseSseEvent(this.#raw as Buffer)
    this.#event = parsed.event
    this.#data = parsed.data
  }
}
