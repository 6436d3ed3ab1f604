import type { OpResult } from '../audit/batch-plan.js'
import { StorageError } from './errors.js'

/**
 * Group commit: operations submitted while a batch is pending or committing wait for the next one,
 * and each batch is one transaction. Under load many requests share one fsync; alone, a request
 * waits one event-loop turn (or `delayMs`). Order is preserved: batches commit one after another
 * and operations within a batch run in submission order, so a begin submitted before its complete
 * is always applied first.
 *
 * `apply` runs one transaction and returns one result per operation (an operation can fail on its
 * own, e.g. a duplicate id, without failing its batch). When `apply` throws, the transaction rolled
 * back: an `unavailable` error fails every operation in the batch; any other error is retried
 * operation by operation so one bad input cannot take its neighbours down.
 */

export interface GroupCommitOptions {
  readonly delayMs: number
  readonly maxBatch: number
}

interface Pending<Op, R> {
  readonly op: Op
  resolve(value: R): void
  reject(error: Error): void
}

export class GroupCommitter<Op, R> {
  readonly #apply: (ops: readonly Op[]) => Promise<Array<OpResult<R>>>
  readonly #options: GroupCommitOptions
  #queue: Array<Pending<Op, R>> = []
  #scheduled = false
  #running: Promise<void> | undefined
  #closed = false

  constructor(apply: (ops: readonly Op[]) => Promise<Array<OpResult<R>>>, options: GroupCommitOptions) {
    this.#apply = apply
    this.#options = options
  }

  submit(op: Op): Promise<R> {
    if (this.#closed) return Promise.reject(new StorageError('unavailable', 'storage is closed'))
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ op, resolve, reject })
      this.#schedule()
    })
  }

  /** Resolves when everything submitted so far has settled. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#running || this.#scheduled) {
      if (this.#running) await this.#running
      else await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  async close(): Promise<void> {
    await this.drain()
    this.#closed = true
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return
    this.#scheduled = true
    const run = (): void => {
      this.#scheduled = false
      this.#running = this.#flushAll().finally(() => {
        this.#running = undefined
        // Operations that arrived during the last commit were not picked up by it.
        if (this.#queue.length > 0) this.#schedule()
      })
    }
    if (this.#options.delayMs > 0) setTimeout(run, this.#options.delayMs)
    else setImmediate(run)
  }

  async #flushAll(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.maxBatch)
      await this.#commit(batch)
    }
  }

  async #commit(batch: Array<Pending<Op, R>>): Promise<void> {
    let results: Array<OpResult<R>>
    try {
      results = await this.#apply(batch.map((p) => p.op))
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error))
      if (batch.length === 1 || (StorageError.is(err) && err.code === 'unavailable')) {
        for (const p of batch) p.reject(err)
        return
      }
      for (const p of batch) await this.#commit([p])
      return
    }
    batch.forEach((p, i) => {
      const result = results[i]
      if (result === undefined) p.reject(new StorageError('unavailable', 'batch returned no result'))
      else if (result.ok) p.resolve(result.value)
      else p.reject(result.error)
    })
  }
}
