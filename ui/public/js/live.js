// @ts-check
/* global document */
import { ApiError, call } from './api.js'

/**
 * Live updates of the approval queue. The admin API has no push channel, so this polls the
 * pending reviews every 1.5 s (a small indexed read on the gateway; none while the tab is hidden)
 * and tells subscribers when the set changed and which reviews are new. It stops for good when
 * the token lacks the approver role or is refused.
 */

/** @typedef {(reviews: Review[], fresh: Review[]) => void} PendingListener */

export const POLL_MS = 1_500

export class PendingFeed {
  /** @type {Review[]} */
  #reviews = []
  /** @type {Set<PendingListener>} */
  #listeners = new Set()
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer
  #running = false
  #signature = ''
  #loaded = false
  /** @type {ApiError | null} */
  #error = null

  /** The last failure, while it lasts (a 403 names the missing role). */
  get error() {
    return this.#error
  }

  start() {
    if (this.#running) return
    this.#running = true
    void this.#tick()
  }

  stop() {
    this.#running = false
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#reviews = []
    this.#signature = ''
    this.#loaded = false
  }

  /** Poll now (after a decision) instead of waiting for the next tick. */
  refresh() {
    if (!this.#running) return
    clearTimeout(this.#timer)
    void this.#tick()
  }

  /**
   * Calls back at once with the current list when there is one, then on every change.
   * @param {PendingListener} listener
   * @returns {() => void} unsubscribe
   */
  subscribe(listener) {
    this.#listeners.add(listener)
    if (this.#loaded) listener(this.#reviews, [])
    return () => this.#listeners.delete(listener)
  }

  async #tick() {
    this.#timer = undefined
    if (!this.#running) return
    if (!document.hidden) {
      try {
        /** @type {{ reviews: Review[] }} */
        const page = await call('GET', '/admin/api/reviews?state=pending&limit=100')
        this.#error = null
        this.#publish(page.reviews)
      } catch (error) {
        this.#error = error instanceof ApiError ? error : new ApiError(String(error), 0)
        // No approver role (or signed out): polling again cannot succeed.
        if (this.#error.status === 403 || this.#error.status === 401) this.#running = false
      }
    }
    if (this.#running) this.#timer = setTimeout(() => void this.#tick(), POLL_MS)
  }

  /** @param {Review[]} next */
  #publish(next) {
    const signature = next.map((r) => `${r.id}:${r.version}`).join(',')
    if (this.#loaded && signature === this.#signature) return
    const known = new Set(this.#reviews.map((r) => r.id))
    const fresh = this.#loaded ? next.filter((r) => !known.has(r.id)) : []
    this.#reviews = next
    this.#signature = signature
    this.#loaded = true
    for (const listener of this.#listeners) listener(next, fresh)
  }
}
