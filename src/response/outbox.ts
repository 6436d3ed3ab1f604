import type { ServerResponse } from 'node:http'
import { drained } from '../http/drained.js'

/** Past this many queued bytes the chunks are written at once instead of at the end of the turn. */
const FLUSH_BYTES = 64 * 1024

/**
 * What the respond stage writes to the client, gathered per turn of the event loop: the chunks (SSE
 * events) that become ready in one turn (the events of one upstream read, and the upstream's end
 * when it came in the same read) leave in one `res.write` or in `res.end`: one chunked-encoding
 * frame and one socket write instead of a frame and four iovecs per event, and the headers ride
 * along with the first of them. The flush runs in the turn's check phase (`setImmediate`), before
 * the loop waits for I/O again: an event that arrives alone still leaves at once, and the headers
 * leave in the turn they were set in even when no event is ready. Backpressure as `res.write`
 * reports it: once the client stops reading, `add` returns a promise that settles on `drain` (or
 * when the client goes away).
 */
export class Outbox {
  readonly #res: ServerResponse
  #parts: Uint8Array[] = []
  #bytes = 0
  #scheduled = false
  #blocked: Promise<void> | undefined

  /** Call after `writeHead`: the headers are sent at the end of this turn at the latest. */
  constructor(res: ServerResponse) {
    this.#res = res
    this.#schedule()
  }

  /** Queues a chunk; returns a promise only while the client is not keeping up. */
  add(chunk: Uint8Array): Promise<void> | undefined {
    if (chunk.byteLength > 0) {
      this.#parts.push(chunk)
      this.#bytes += chunk.byteLength
      if (this.#bytes >= FLUSH_BYTES) this.flush()
      else this.#schedule()
    }
    return this.#blocked
  }

  /** Writes what is queued now (and the headers, if nothing has gone out yet). */
  flush(): void {
    const res = this.#res
    if (res.writableEnded || res.destroyed) {
      this.#take()
      return
    }
    if (this.#parts.length === 0) {
      if (!res.headersSent) res.flushHeaders()
      return
    }
    const written = this.#parts.length > 1 && this.#bytes > FLUSH_BYTES ? this.#writeEach() : res.write(this.#take() as Uint8Array)
    if (!written && this.#blocked === undefined) {
      this.#blocked = drained(res).then(() => {
        this.#blocked = undefined
      })
    }
  }

  /** Ends the response with what is still queued: one write for the last events and the end. */
  end(): void {
    const last = this.#res.writableEnded || this.#res.destroyed ? undefined : this.#take()
    if (last === undefined) this.#res.end()
    else this.#res.end(last)
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(flushAtTurnEnd, this)
  }

  /** Called at the end of the turn only. */
  turnEnded(): void {
    this.#scheduled = false
    this.flush()
  }

  /** Large chunks are not copied together; they are corked into one socket write instead. */
  #writeEach(): boolean {
    const res = this.#res
    const parts = this.#parts
    this.#parts = []
    this.#bytes = 0
    res.cork()
    let written = true
    for (const part of parts) written = res.write(part)
    res.uncork()
    return written
  }

  /** The queued chunks as one buffer (the chunk itself when there is one), and the queue emptied. */
  #take(): Uint8Array | undefined {
    const parts = this.#parts
    if (parts.length === 0) return undefined
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts, this.#bytes)
    this.#parts = []
    this.#bytes = 0
    return data
  }
}

function flushAtTurnEnd(outbox: Outbox): void {
  outbox.turnEnded()
}
