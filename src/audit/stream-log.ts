import type { AuditResponse, AuditStreamEvent } from './record.js'

/**
 * Records a streamed response for the audit: every event as the client received it (already
 * masked) with its time offset, bounded in count and bytes, and the message assembled from the
 * events the way the Anthropic SDK does, so the record holds both "what was said" and "how it was
 * streamed". Assembly continues past the log bound, so a truncated log still has the full message.
 */

export interface StreamRecorderOptions {
  /** Events kept in the log; default 20 000. */
  readonly maxEvents?: number
  /** Bytes of event data kept in the log; default 8 MiB. */
  readonly maxBytes?: number
}

export class StreamRecorder {
  readonly #startMs: number
  readonly #maxEvents: number
  readonly #maxBytes: number
  readonly #events: AuditStreamEvent[] = []
  readonly #assembler = new MessageAssembler()
  #logBytes = 0
  #bytes = 0
  #truncated = false

  /** `startMs` is the record's start on the clock later `add` calls use (e.g. performance.now()). */
  constructor(startMs: number, options: StreamRecorderOptions = {}) {
    this.#startMs = startMs
    this.#maxEvents = options.maxEvents ?? 20_000
    this.#maxBytes = options.maxBytes ?? 8 * 1024 * 1024
  }

  /**
   * One event as sent to the client; `data` is the event's data text (JSON for the Messages API).
   * `json`, when the caller already holds the data parsed (the response observer), spares a parse.
   */
  add(event: string, data: string, atMs: number, json?: unknown): void {
    const size = Buffer.byteLength(data) + event.length
    this.#bytes += size
    if (json === undefined) this.#assembler.apply(event, data)
    else this.#assembler.applyParsed(event, json)
    if (this.#truncated || this.#events.length >= this.#maxEvents || this.#logBytes + size > this.#maxBytes) {
      this.#truncated = true
      return
    }
    this.#logBytes += size
    // Members in canonical (sorted) order: the record's hash then serialises them without a copy.
    this.#events.push({ data, event, t: Math.max(0, Math.round(atMs - this.#startMs)) })
  }

  /** The assembled message so far (null before `message_start`). */
  get message(): Record<string, unknown> | null {
    return this.#assembler.message
  }

  response(contentType: string | null): AuditResponse {
    return { kind: 'sse', contentType, bytes: this.#bytes, message: this.#assembler.message, events: [...this.#events], truncated: this.#truncated }
  }
}

type Block = Record<string, unknown>

/** Applies Messages API stream events to a message object (anthropic-api.md, streaming). */
export class MessageAssembler {
  message: Record<string, unknown> | null = null
  readonly #partialJson = new Map<number, string>()

  apply(event: string, data: string): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(data)
    } catch {
      return
    }
    this.applyParsed(event, parsed)
  }

  /** The same for data already parsed; the assembler copies what it keeps and never mutates `parsed`. */
  applyParsed(event: string, parsed: unknown): void {
    if (typeof parsed !== 'object' || parsed === null) return
    const payload = parsed as Record<string, unknown>
    const type = typeof payload.type === 'string' ? payload.type : event
    if (type === 'message_start' && isObject(payload.message)) {
      this.message = { ...payload.message, content: [] }
      return
    }
    if (this.message === null) return
    if (type === 'content_block_start') this.#start(payload)
    else if (type === 'content_block_delta') this.#delta(payload)
    else if (type === 'content_block_stop') this.#stop(payload)
    else if (type === 'message_delta') this.#messageDelta(payload)
  }

  #blocks(): Block[] {
    return (this.message?.content as Block[] | undefined) ?? []
  }

  #start(payload: Record<string, unknown>): void {
    const index = payload.index
    if (typeof index !== 'number' || !isObject(payload.content_block)) return
    this.#blocks()[index] = { ...payload.content_block }
  }

  #delta(payload: Record<string, unknown>): void {
    const index = payload.index
    const block = typeof index === 'number' ? this.#blocks()[index] : undefined
    const delta = payload.delta
    if (block === undefined || !isObject(delta) || typeof index !== 'number') return
    const append = (key: string, value: unknown): void => {
      if (typeof value === 'string') block[key] = `${typeof block[key] === 'string' ? (block[key] as string) : ''}${value}`
    }
    switch (delta.type) {
      case 'text_delta':
        return append('text', delta.text)
      case 'thinking_delta':
        return append('thinking', delta.thinking)
      case 'signature_delta':
        block.signature = delta.signature
        return
      case 'citations_delta':
        block.citations = [...((block.citations as unknown[] | undefined) ?? []), delta.citation]
        return
      case 'input_json_delta':
        if (typeof delta.partial_json === 'string') this.#partialJson.set(index, (this.#partialJson.get(index) ?? '') + delta.partial_json)
        return
    }
  }

  #stop(payload: Record<string, unknown>): void {
    const index = payload.index
    if (typeof index !== 'number') return
    const json = this.#partialJson.get(index)
    const block = this.#blocks()[index]
    if (json === undefined || block === undefined) return
    this.#partialJson.delete(index)
    try {
      block.input = json === '' ? {} : (JSON.parse(json) as unknown)
    } catch {
      // Keep what arrived: the audit must show a malformed tool input rather than hide it.
      block.input = json
    }
  }

  #messageDelta(payload: Record<string, unknown>): void {
    const message = this.message
    if (message === null) return
    if (isObject(payload.delta)) Object.assign(message, payload.delta)
    if (isObject(payload.usage)) message.usage = { ...(isObject(message.usage) ? message.usage : {}), ...payload.usage }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
