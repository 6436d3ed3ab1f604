import type { AuditOp, OpResult } from '../audit/batch-plan.js'
import type { StorageErrorHandler } from './ports.js'

/**
 * Each Storage instance is a writer with a lease row (`audit_writers`). Its open records carry its
 * id; `markInterrupted` on another worker or replica only closes open records whose writer's lease
 * has expired, so a restart of one process never marks the live streams of another as interrupted.
 * The lease is renewed inside write transactions when due, and by a timer only while this writer
 * has open records (an idle writer's lease may lapse: it owns nothing that could be misjudged).
 */

export interface WriterOptions {
  readonly writerId: string
  readonly leaseMs: number
  readonly now: () => Date
  readonly delayMs: number
  readonly maxBatch: number
  /** Told about background failures nobody awaits (a failed timer renewal). */
  readonly onError: StorageErrorHandler
}

export class WriterLease {
  readonly writerId: string
  readonly leaseMs: number
  readonly #now: () => Date
  readonly #renew: (at: number) => unknown
  readonly #onError: StorageErrorHandler
  #lastRenew = Number.NEGATIVE_INFINITY
  #open = 0
  #timer: NodeJS.Timeout | undefined

  constructor(options: WriterOptions, renew: (at: number) => unknown) {
    this.writerId = options.writerId
    this.leaseMs = options.leaseMs
    this.#now = options.now
    this.#renew = renew
    this.#onError = options.onError
  }

  /** Renew in this transaction? (a third of the lease has passed since the last renewal). */
  due(at: number): boolean {
    return at - this.#lastRenew >= this.leaseMs / 3
  }

  renewed(at: number): void {
    this.#lastRenew = Math.max(this.#lastRenew, at)
  }

  /** Counts this writer's open records after a batch and keeps the renewal timer in step. */
  track(ops: readonly AuditOp[], results: ReadonlyArray<OpResult<unknown>>): void {
    ops.forEach((op, i) => {
      if (op.kind === 'begin' && results[i]?.ok) this.#open += 1
      // A completion ends the request whether or not it committed; the record is not ours to renew.
      if (op.kind === 'complete') this.#open = Math.max(0, this.#open - 1)
    })
    if (this.#open > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), Math.max(10, Math.floor(this.leaseMs / 3)))
      this.#timer.unref()
    }
  }

  #tick(): void {
    if (this.#open === 0) {
      this.stop()
      return
    }
    const at = this.#now().getTime()
    Promise.resolve()
      .then(() => this.#renew(at))
      .then(() => this.renewed(at))
      // Retried next tick; if renewals keep failing the lease lapses and another instance's
      // markInterrupted may close this writer's live records, so the failure is reported.
      .catch((error: unknown) => this.#onError('writer-lease', error instanceof Error ? error : new Error(String(error))))
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
