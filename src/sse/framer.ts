const LF = 0x0a
const CR = 0x0d
const LF_LF = Buffer.from('\n\n')

/**
 * Splits an SSE byte stream into whole events without decoding or changing a byte (WHATWG HTML
 * "Server-sent events": lines end in CRLF, LF or CR; an empty line ends an event). Chunks may split
 * anywhere, including between CR and LF; an event larger than `maxEventBytes` is an error rather
 * than an unbounded buffer (undici `eventsource-stream.js` `maxEventSize`).
 */
export class SseFramer {
  #pending: Buffer[] = []
  #pendingBytes = 0
  /** True when the bytes seen so far end a line (we are at the start of a new line). */
  #atLineStart = true
  /** A CR just ended a line; a following LF belongs to the same line ending. */
  #afterCR = false
  /** The event is complete at a CR; wait for one more byte to know whether an LF follows. */
  #endsAfterCR = false

  readonly #chunksStayUnchanged: boolean

  /**
   * `chunksStayUnchanged`: the caller never writes to a chunk's memory again after `push` (undici's
   * body chunks are views of one socket read each): events are then views of the chunks, not copies.
   */
  constructor(
    private readonly maxEventBytes = 16 * 1024 * 1024,
    { chunksStayUnchanged = false }: { readonly chunksStayUnchanged?: boolean } = {},
  ) {
    this.#chunksStayUnchanged = chunksStayUnchanged
  }

  /** Feeds one chunk; returns the events it completed, each with its terminating blank line. */
  push(chunk: Uint8Array): Buffer[] {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    // What the Messages API sends: LF line ends only. Found with native searches, not a JS loop per byte.
    if (!this.#afterCR && !this.#endsAfterCR && buf.indexOf(CR) === -1) return this.#pushLf(buf)
    const events: Buffer[] = []
    let start = 0
    for (let i = 0; i < buf.length; i++) {
      const byte = buf[i]
      if (this.#endsAfterCR) {
        this.#endsAfterCR = false
        const end = byte === 0x0a ? i + 1 : i
        events.push(this.#take(buf, start, end))
        start = end
        this.#afterCR = false
        if (byte === 0x0a) continue
      }
      if (byte === 0x0a && this.#afterCR) {
        this.#afterCR = false
        continue
      }
      this.#afterCR = false
      if (byte === 0x0a || byte === 0x0d) {
        const blankLine = this.#atLineStart
        this.#atLineStart = true
        if (byte === 0x0d) this.#afterCR = true
        if (!blankLine) continue
        if (byte === 0x0d) {
          this.#endsAfterCR = true
          continue
        }
        events.push(this.#take(buf, start, i + 1))
        start = i + 1
        continue
      }
      this.#atLineStart = false
    }
    this.#keep(buf.subarray(start))
    return events
  }

  /**
   * The same rules on a chunk without CR: an event ends at an LF that begins a line, that is an LF
   * right after an LF (or first in the chunk when the last chunk ended a line).
   */
  #pushLf(buf: Buffer): Buffer[] {
    const events: Buffer[] = []
    if (buf.length === 0) return events
    let start = 0
    let pair = 0
    if (this.#atLineStart && buf[0] === LF) {
      events.push(this.#take(buf, 0, 1))
      start = 1
    }
    while ((pair = buf.indexOf(LF_LF, start === 0 ? 0 : start - 1)) !== -1) {
      events.push(this.#take(buf, start, pair + 2))
      start = pair + 2
    }
    this.#atLineStart = buf[buf.length - 1] === LF
    this.#keep(buf.subarray(start))
    return events
  }

  /** Ends the stream; returns what is left (a CR-terminated event, or a trailing partial event). */
  end(): Buffer | undefined {
    this.#endsAfterCR = false
    if (this.#pendingBytes === 0) return undefined
    const rest = Buffer.concat(this.#pending, this.#pendingBytes)
    this.#pending = []
    this.#pendingBytes = 0
    return rest
  }

  #take(buf: Buffer, start: number, end: number): Buffer {
    const piece = buf.subarray(start, end)
    if (this.#pendingBytes === 0) return this.#chunksStayUnchanged ? piece : Buffer.from(piece)
    const event = Buffer.concat([...this.#pending, piece], this.#pendingBytes + piece.length)
    this.#pending = []
    this.#pendingBytes = 0
    return event
  }

  #keep(rest: Buffer): void {
    if (rest.length === 0) return
    this.#pendingBytes += rest.length
    if (this.#pendingBytes > this.maxEventBytes) throw new SseEventTooLargeError(this.maxEventBytes)
    // Copy unless told otherwise: the caller may reuse the chunk's memory after push() returns.
    this.#pending.push(this.#chunksStayUnchanged ? rest : Buffer.from(rest))
  }
}

export class SseEventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`SSE event larger than ${limit} bytes`)
    this.name = 'SseEventTooLargeError'
  }
}

/** Frames an async byte stream into whole events. */
export async function* frameSse(chunks: AsyncIterable<Uint8Array>, maxEventBytes?: number): AsyncGenerator<Buffer> {
  const framer = new SseFramer(maxEventBytes)
  for await (const chunk of chunks) yield* framer.push(chunk)
  const rest = framer.end()
  if (rest) yield rest
}
