import { errors as undiciErrors, util as undiciUtil, type Dispatcher } from 'undici'

/** Chunks held before the upstream connection is paused (what undici's body stream holds by default). */
const HIGH_WATER_BYTES = 64 * 1024

type Settle<T> = { resolve: (value: T) => void; reject: (error: unknown) => void }

/** What the response's headers resolve to (see `UpstreamExchange`). */
export interface UpstreamHead {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: AsyncIterable<Uint8Array>
}

/**
 * One upstream call as an undici dispatch handler (issue #15): the answer's body is an async
 * iterator fed straight from the parser's callbacks, without the `Readable`, its async-iterator
 * adapter and the request handler's async resource that `pool.request` builds per call (~30 µs of
 * CPU per call on the bench machine). Same contract as `pool.request`: `head` resolves at the
 * headers and rejects with the transport error before them; after them the body's `next()`
 * rejects with it. The caller's `signal` aborts the call at any point, with its reason (undici's
 * `RequestAbortedError` when it has none). A consumer that stops iterating early aborts the call,
 * as destroying undici's body stream does. Backpressure: past 64 KiB unread the parser pauses.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler, AsyncIterator<Uint8Array>, AsyncIterable<Uint8Array> {
  readonly head: Promise<UpstreamHead>
  #head!: Settle<UpstreamHead>
  #abort: ((reason: Error) => void) | undefined
  #reason: Error | undefined
  #resume: (() => void) | undefined
  #paused = false
  #queue: Uint8Array[] = []
  #queued = 0
  #waiter: Settle<IteratorResult<Uint8Array>> | undefined
  #ended = false
  #error: unknown
  #failed = false
  readonly #signal: AbortSignal | undefined
  readonly #onAbort = () => this.#cancel(abortReason(this.#signal))

  constructor(signal: AbortSignal | undefined) {
    this.head = new Promise((resolve, reject) => (this.#head = { resolve, reject }))
    this.#signal = signal
    if (signal?.aborted) this.#reason = abortReason(signal)
    else signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.#reason) abort(this.#reason)
    else this.#abort = abort
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (status < 200) return true
    this.#resume = resume
    this.#head.resolve({ status, headers: undiciUtil.parseHeaders(rawHeaders) as Record<string, string | string[] | undefined>, body: this })
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.#ended) return true
    const waiter = this.#waiter
    if (waiter) {
      this.#waiter = undefined
      waiter.resolve({ value: chunk, done: false })
      return true
    }
    this.#queue.push(chunk)
    this.#queued += chunk.byteLength
    if (this.#queued < HIGH_WATER_BYTES) return true
    this.#paused = true
    return false
  }

  onComplete(): void {
    this.#finish()
    this.#ended = true
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.resolve({ value: undefined, done: true })
  }

  onError(error: Error): void {
    this.#finish()
    if (this.#failed) return
    this.#failed = true
    this.#error = error
    this.#head.reject(error)
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(error)
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.#queue.shift()
    if (chunk !== undefined) {
      this.#queued -= chunk.byteLength
      if (this.#paused && this.#queued < HIGH_WATER_BYTES) {
        this.#paused = false
        this.#resume?.()
      }
      return Promise.resolve({ value: chunk, done: false })
    }
    if (this.#failed) return Promise.reject(this.#error)
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }))
  }

  /** The consumer stopped early (client gone, a stage failed): the upstream call is abandoned. */
  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#ended && !this.#failed) this.#cancel(new undiciErrors.RequestAbortedError())
    this.#ended = true
    this.#queue = []
    this.#queued = 0
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  #cancel(reason: Error): void {
    this.#reason ??= reason
    if (this.#abort) this.#abort(reason)
  }

  #finish(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort)
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  return reason instanceof Error ? reason : new undiciErrors.RequestAbortedError()
}
