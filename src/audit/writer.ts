import type { AuditStore } from '../storage/ports.js'
import type { AuditOp, AuditReceipt } from './batch-plan.js'
import { assembleRecord, type AuditCompletion, type AuditOpening } from './record.js'
import type { AuditSink } from './sinks/types.js'

/**
 * The gateway's one entry to the audit (`audit.durability`, SPEC §5):
 *
 * - `strict`: `begin` resolves once the opening is committed and rejects when it cannot be — the
 *   gateway then answers 503 and forwards nothing; `complete` resolves once the completion is
 *   committed, before the last byte is released to the client. Concurrent requests share commits
 *   (the store's group commit).
 * - `async`: both return at once; halves wait in a bounded queue and a background pump commits
 *   them. Latency never waits for the disk, at a price: a crash loses what was still queued, an
 *   outage longer than the queue drops records (counted in `stats().dropped`), and nothing is
 *   refused for want of an audit.
 *
 * After a completion commits, the whole record goes to every sink.
 *
 * A strict completion the store could not take (an outage mid-response: the client got an error
 * instead of its last byte) is not left open for the life of the process: the writer keeps the last
 * completion attempted for that record and commits it in the background once the store is back
 * (`stats().repairing`), so its own process closes it — no other replica may, while it lives.
 */

export type AuditDurability = 'strict' | 'async'

export interface AuditWriterOptions {
  readonly durability: AuditDurability
  /** async: halves held before new ones are dropped; default 10 000. */
  readonly queueSize?: number
  /** async: wait after a failed commit before retrying, doubling up to 5 s; default 100 ms. */
  readonly retryDelayMs?: number
  readonly sinks?: readonly AuditSink[]
  /** Told of every committed half's place in the chain (the head signer counts and signs by it). */
  readonly onCommitted?: (receipt: AuditReceipt, op: 'begin' | 'complete') => void
  /** Failures no caller can see: async commits given up on, dropped halves. Never carries content. */
  readonly onError?: (error: Error, context: { readonly op: 'begin' | 'complete'; readonly id: string }) => void
}

export interface AuditWriterStats {
  readonly durability: AuditDurability
  /** async: halves waiting to be committed. */
  readonly queued: number
  readonly committed: number
  /** async: halves not accepted (queue full, or their opening was dropped). */
  readonly dropped: number
  /** Halves the store refused for good (strict: also returned to the caller). */
  readonly failed: number
  /** strict: completions waiting for the store to come back (see the class comment). */
  readonly repairing: number
}

export class AuditWriter {
  readonly #store: AuditStore
  readonly #options: AuditWriterOptions
  /** Openings in flight, kept to hand whole records to sinks without a read. */
  readonly #open = new Map<string, { opening: AuditOpening; receipt: AuditReceipt }>()
  readonly #queue: AuditOp[] = []
  /** async: ids whose opening was dropped, so their completion is dropped too (bounded). */
  readonly #droppedIds = new Set<string>()
  #pumping: Promise<void> | undefined
  /** strict: record id → the last completion attempted while the store was unavailable. */
  readonly #repairs = new Map<string, AuditCompletion>()
  #repairTimer: NodeJS.Timeout | undefined
  #repairDelay = 0
  #repairing: Promise<void> | undefined
  /** async: halves handed to the store and not settled yet; they count against `queueSize`. */
  #inFlight = 0
  #committed = 0
  #dropped = 0
  #failed = 0

  constructor(store: AuditStore, options: AuditWriterOptions) {
    this.#store = store
    this.#options = options
  }

  get durability(): AuditDurability {
    return this.#options.durability
  }

  /** Strict: committed when this resolves; rejects (StorageError) when it could not be. */
  begin(opening: AuditOpening): Promise<void> {
    if (this.#options.durability === 'async') return this.#enqueue({ kind: 'begin', opening })
    return this.#commit({ kind: 'begin', opening })
  }

  /** Strict: committed when this resolves; an unavailable store leaves it to the repair loop as well. */
  complete(id: string, completion: AuditCompletion): Promise<void> {
    if (this.#options.durability === 'async') return this.#enqueue({ kind: 'complete', id, completion })
    return this.#commit({ kind: 'complete', id, completion }).then(
      () => void this.#repairs.delete(id),
      (error: unknown) => {
        if (isUnavailable(error)) {
          this.#repairs.set(id, completion)
          this.#scheduleRepair()
        }
        throw error
      },
    )
  }

  /** A request that ends before going upstream (denied, refused): both halves in one commit. */
  async record(opening: AuditOpening, completion: AuditCompletion): Promise<void> {
    await Promise.all([this.begin(opening), this.complete(opening.id, completion)])
  }

  /**
   * async: resolves true once the queue is empty (committed or given up on), or false when
   * `timeoutMs` passed first (the store is still down; what is queued stays queued).
   */
  async flush(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const drained = (async () => {
      while (this.#pumping) await this.#pumping
      return true
    })()
    if (!Number.isFinite(timeoutMs)) return drained
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs)
    })
    return Promise.race([drained, timeout]).finally(() => clearTimeout(timer))
  }

  /** Flushes (bounded by `timeoutMs` for a store that stays down), then flushes and closes the sinks. */
  async close(timeoutMs = 10_000): Promise<void> {
    await this.flush(timeoutMs)
    clearTimeout(this.#repairTimer)
    // One last try for completions still waiting; what stays open is marked interrupted after this writer's lease.
    if (this.#repairs.size > 0) await this.#repair()
    for (const sink of this.#options.sinks ?? []) await sink.close()
  }

  stats(): AuditWriterStats {
    return { durability: this.#options.durability, queued: this.#queue.length + this.#inFlight, committed: this.#committed, dropped: this.#dropped, failed: this.#failed, repairing: this.#repairs.size }
  }

  #scheduleRepair(): void {
    if (this.#repairTimer !== undefined || this.#repairing !== undefined) return
    this.#repairDelay = this.#repairDelay === 0 ? (this.#options.retryDelayMs ?? 100) : Math.min(5_000, this.#repairDelay * 2)
    this.#repairTimer = setTimeout(() => {
      this.#repairTimer = undefined
      void this.#repair()
    }, this.#repairDelay)
    this.#repairTimer.unref()
  }

  /** Commits each waiting completion; a record someone else closed is dropped; still down → later. */
  #repair(): Promise<void> {
    this.#repairing ??= (async () => {
      for (const [id, completion] of [...this.#repairs]) {
        try {
          await this.#commit({ kind: 'complete', id, completion })
        } catch (error) {
          if (isUnavailable(error)) {
            this.#failed -= 1 // not a failure yet: it stays waiting
            continue
          }
          this.#options.onError?.(asError(error), { op: 'complete', id })
        }
        if (this.#repairs.get(id) === completion) this.#repairs.delete(id)
      }
    })().finally(() => {
      this.#repairing = undefined
      if (this.#repairs.size === 0) this.#repairDelay = 0
      else this.#scheduleRepair()
    })
    return this.#repairing
  }

  async #commit(op: AuditOp): Promise<void> {
    try {
      const receipt = op.kind === 'begin' ? await this.#store.begin(op.opening) : await this.#store.complete(op.id, op.completion)
      this.#committed += 1
      this.#afterCommit(op, receipt)
    } catch (error) {
      this.#failed += 1
      // A half that will be retried (async queue, strict repair) still needs its opening for the sinks.
      const retried = isUnavailable(error)
      if (op.kind === 'complete' && !retried) this.#open.delete(op.id)
      throw error
    }
  }

  #afterCommit(op: AuditOp, receipt: AuditReceipt): void {
    this.#options.onCommitted?.(receipt, op.kind)
    if (op.kind === 'begin') {
      this.#open.set(op.opening.id, { opening: op.opening, receipt })
      return
    }
    const opened = this.#open.get(op.id)
    this.#open.delete(op.id)
    if (opened === undefined) return
    const record = assembleRecord(opened.opening, op.completion, { open: opened.receipt, close: receipt })
    for (const sink of this.#options.sinks ?? []) sink.publish(record)
  }

  async #enqueue(op: AuditOp): Promise<void> {
    const id = op.kind === 'begin' ? op.opening.id : op.id
    const orphan = op.kind === 'complete' && this.#droppedIds.delete(id)
    if (orphan || this.#queue.length + this.#inFlight >= (this.#options.queueSize ?? 10_000)) {
      this.#dropped += 1
      if (op.kind === 'begin') this.#rememberDropped(id)
      this.#options.onError?.(new Error('audit queue full: record dropped'), { op: op.kind, id })
      return
    }
    this.#queue.push(op)
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = undefined
    })
  }

  #rememberDropped(id: string): void {
    this.#droppedIds.add(id)
    // Completions normally follow within minutes; the oldest ids beyond this are simply forgotten.
    if (this.#droppedIds.size > 100_000) this.#droppedIds.delete(this.#droppedIds.values().next().value as string)
  }

  /** Commits everything queued, batch by batch; retries while the store is unavailable. */
  async #pump(): Promise<void> {
    let delay = this.#options.retryDelayMs ?? 100
    // Let halves enqueued in the same turn join the first batch.
    await new Promise((resolve) => setImmediate(resolve))
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#queue.length)
      this.#inFlight = batch.length
      const results = await Promise.allSettled(batch.map((op) => this.#commit(op)))
      this.#inFlight = 0
      const retry: AuditOp[] = []
      batch.forEach((op, i) => {
        const r = results[i]
        if (r?.status !== 'rejected') return
        if (isUnavailable(r.reason)) retry.push(op)
        else this.#options.onError?.(asError(r.reason), { op: op.kind, id: op.kind === 'begin' ? op.opening.id : op.id })
      })
      if (retry.length === 0) {
        delay = this.#options.retryDelayMs ?? 100
        continue
      }
      // Unavailable halves are not failures yet: put them back in front, in order, and wait.
      this.#failed -= retry.length
      this.#queue.unshift(...retry)
      await new Promise((resolve) => setTimeout(resolve, delay).unref())
      delay = Math.min(5_000, delay * 2)
    }
  }
}

function isUnavailable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'unavailable'
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}
