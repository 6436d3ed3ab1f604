import type { Review, ReviewStore } from '../storage/ports.js'

/**
 * Lets held requests learn their review's decision quickly without a query per request: while at
 * least one request waits, the process polls the store's review version (one single-row read per
 * `pollMs`) and, only when it moved, reads what changed since the last poll in one range query.
 * Decisions made in this process wake waiters at once (`wake`); decisions made on another replica
 * too where the store pushes changes (PostgreSQL LISTEN/NOTIFY: a notification triggers the poll
 * at once), and otherwise within `pollMs` (default 500 ms, inside the one-second bound of SPEC §7).
 * Polling stays on either way, so a lost notification connection costs latency, never a decision.
 */
export interface ReviewWatcherOptions {
  readonly pollMs?: number | undefined
  readonly onError?: ((error: Error) => void) | undefined
}

/** At most this many changes are read per poll; a bigger burst falls back to reading each waited review. */
const pageSize = 500

type Settle = (review: Review) => void

export class ReviewWatcher {
  readonly #store: ReviewStore
  readonly #pollMs: number
  readonly #onError: (error: Error) => void
  readonly #waiters = new Map<string, Set<Settle>>()
  #lastVersion: number | undefined
  #timer: NodeJS.Timeout | undefined
  #polling: Promise<void> | undefined
  #initialising: Promise<void> | undefined
  /** The store's push subscription (taken with the first waiter, kept until `close`). */
  #subscription: Promise<(() => Promise<void>) | undefined> | undefined
  #closed = false

  constructor(store: ReviewStore, options: ReviewWatcherOptions = {}) {
    this.#store = store
    this.#pollMs = options.pollMs ?? 500
    this.#onError = options.onError ?? (() => undefined)
  }

  /**
   * Calls `settle` once the review leaves `pending` (as seen by a poll, a local `wake`, or right
   * away when it already has). Returns the function that stops watching.
   */
  async watch(reviewId: string, settle: Settle): Promise<() => void> {
    let set = this.#waiters.get(reviewId)
    if (set === undefined) this.#waiters.set(reviewId, (set = new Set()))
    set.add(settle)
    const stop = (): void => this.#remove(reviewId, settle)
    this.#start()
    // Establish the version first, then read the review: a decision after this point moves the
    // version past the one we hold and the next poll sees it; a decision before it shows here.
    await this.#ensureVersion()
    const current = await this.#store.get(reviewId).catch((error: unknown) => void this.#onError(error as Error))
    if (current !== undefined && current.state !== 'pending') this.#settle(current)
    return stop
  }

  /** A decision made in this process: waiters need not wait for the next poll. */
  wake(review: Review): void {
    if (review.state !== 'pending') this.#settle(review)
  }

  get waiting(): number {
    return this.#waiters.size
  }

  close(): void {
    this.#closed = true
    this.#stop()
    this.#waiters.clear()
    void this.#subscription?.then((unsubscribe) => unsubscribe?.())
  }

  #settle(review: Review): void {
    const set = this.#waiters.get(review.id)
    if (set === undefined) return
    this.#waiters.delete(review.id)
    for (const settle of set) settle(review)
    if (this.#waiters.size === 0) this.#stop()
  }

  #remove(reviewId: string, settle: Settle): void {
    const set = this.#waiters.get(reviewId)
    if (set === undefined) return
    set.delete(settle)
    if (set.size === 0) this.#waiters.delete(reviewId)
    if (this.#waiters.size === 0) this.#stop()
  }

  #start(): void {
    this.#subscribe()
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => void this.#poll(), this.#pollMs)
    // The held request keeps the process busy; the poll timer alone must not.
    this.#timer.unref()
  }

  #subscribe(): void {
    if (this.#subscription !== undefined || this.#closed || !this.#store.subscribe) return
    this.#subscription = this.#store.subscribe(() => void this.#poll()).then(
      (unsubscribe) => {
        if (!this.#closed) return unsubscribe
        void unsubscribe()
        return undefined
      },
      (error: unknown) => {
        this.#onError(error as Error)
        // Polling carries on; the next first waiter tries to subscribe again.
        setImmediate(() => (this.#subscription = undefined))
        return undefined
      },
    )
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    // Forget the version: a later first waiter re-reads it, so no stale range is scanned.
    this.#lastVersion = undefined
  }

  /** Waiters arriving together share one version read. */
  #ensureVersion(): Promise<void> {
    if (this.#lastVersion !== undefined) return Promise.resolve()
    this.#initialising ??= this.#store
      .version()
      .then(
        (version) => {
          this.#lastVersion ??= version
        },
        (error: unknown) => this.#onError(error as Error),
      )
      .finally(() => {
        this.#initialising = undefined
      })
    return this.#initialising
  }

  #poll(): Promise<void> {
    this.#polling ??= this.#pollOnce()
      .catch((error: unknown) => this.#onError(error as Error))
      .finally(() => {
        this.#polling = undefined
      })
    return this.#polling
  }

  async #pollOnce(): Promise<void> {
    if (this.#waiters.size === 0) return
    const last = this.#lastVersion
    const version = await this.#store.version()
    if (last === undefined) {
      this.#lastVersion = version
      await this.#readEach()
      return
    }
    if (version === last) return
    const changes = await this.#store.changedSince(last, pageSize)
    // Every change up to `version` has committed (versions are handed out in commit order).
    if (this.#lastVersion === last) this.#lastVersion = version
    if (changes.length >= pageSize) await this.#readEach()
    else for (const review of changes) this.wake(review)
  }

  /** Fallback when the change feed cannot be trusted to be complete: read each waited review. */
  async #readEach(): Promise<void> {
    for (const id of [...this.#waiters.keys()]) {
      const review = await this.#store.get(id)
      if (review !== undefined) this.wake(review)
    }
  }
}
