import type { ServerResponse } from 'node:http'
import { drained } from '../http/drained.js'

/** Past this many queued bytes the chunks are written at once instead of at the end of the turn. */
const FLUSH_BYTES = 64 * 1024

/**
 * How many holds in a row what is queued waits for before it is written anyway: each is one store
 * commit on data already received (an owner record, the audit completion), so a few at most.
 */
const MAX_HOLDS = 4

/**
 * What a stage is waiting on before it passes its next chunk on (see `holdOutputWhile`), read by
 * the outbox at the end of a turn.
 */
export type OutputHold = () => Promise<unknown> | undefined

/** Where a request's current hold is kept (the request context). */
export interface HoldsOutput {
  outputHold?: Promise<unknown> | undefined
}

/**
 * Runs `work` (a store commit the stage must see through before its next chunk goes on: the audit
 * completion before a stream's last event, an owner record before the event that names it) as the
 * request's output hold: what is already queued for the client waits for it too, so it leaves in
 * one write with what follows instead of one write before the wait and one after.
 */
export async function holdOutputWhile<T>(holder: HoldsOutput, work: Promise<T>): Promise<T> {
  holder.outputHold = work
  try {
    return await work
  } finally {
    if (holder.outputHold === work) holder.outputHold = undefined
  }
}

/**
 * What the respond stage writes to the client, gathered per turn of the event loop: the chunks (SSE
 * events) that become ready in one turn (the events of one upstream read, and the upstream's end
 * when it came in the same read) leave in one `res.write` or in `res.end`: one chunked-encoding
 * frame and one socket write instead of a frame and four iovecs per event, and the headers ride
 * along with the first of them. The flush runs in the turn's check phase (`setImmediate`), before
 * the loop waits for I/O again: an event that arrives alone still leaves at once, and the headers
 * leave in the turn they were set in even when no event is ready. One exception: when a stage is
 * holding its next chunk for a store commit (`hold`), what is queued waits for that commit (and for
 * the next, when the stage holds again at once, up to four), then leaves with what follows it (a
 * strict stream's last events and its end: one write, not two).
 * Backpressure as `res.write` reports it: once the client stops reading, `add` returns a promise that
 * settles on `drain` (or when the client goes away).
 */
export class Outbox {
  readonly #res: ServerResponse
  readonly #hold: OutputHold
  #parts: Uint8Array[] = []
  #bytes = 0
  #scheduled = false
  #blocked: Promise<void> | undefined
  /** Holds what is queued has waited for: bounded, so a long chain of commits cannot keep it back. */
  #waited = 0

  /** Call after `writeHead`: the headers are sent at the end of this turn at the latest (unless held). */
  constructor(res: ServerResponse, hold: OutputHold = () => undefined) {
    this.#res = res
    this.#hold = hold
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
    this.#waited = 0
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
    const hold = this.#waited < MAX_HOLDS ? this.#hold() : undefined
    if (hold !== undefined) {
      // Still scheduled: chunks added meanwhile join this queue; the flush comes a turn after the hold settles.
      this.#waited += 1
      const later = (): void => void setImmediate(flushAtTurnEnd, this)
      hold.then(later, later)
      return
    }
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
