import { setTimeout as sleep } from 'node:timers/promises'
import { signatureHeader, signWebhookBody } from './signature.js'
import { revealSecret, type AuditSinkStats, type SinkSecret } from './types.js'

/**
 * Delivers bodies to one webhook, in order: signed with `skillgate-signature` (HMAC-SHA256) when a
 * secret is set, retried with exponential backoff and jitter on network errors, timeouts, 408, 425,
 * 429 and 5xx (other 4xx are final), never following redirects (a body must not go to a host that
 * was not configured), and a bounded queue that drops and counts rather than grows. The audit sink
 * (records) and the notifier (review, decision and revocation messages) both deliver through it.
 */
export interface WebhookChannelOptions {
  readonly url: string | URL
  readonly secret?: SinkSecret | undefined
  /** Deliveries waiting before new ones are dropped; default 1 000. */
  readonly queueSize?: number | undefined
  /** Attempts per delivery, including the first; default 6. */
  readonly maxAttempts?: number | undefined
  /** First retry delay; doubles per attempt up to `maxDelayMs`. Defaults 500 ms and 30 s. */
  readonly baseDelayMs?: number | undefined
  readonly maxDelayMs?: number | undefined
  /** Per attempt; default 10 s. */
  readonly timeoutMs?: number | undefined
  /** Reports given-up deliveries (never the body). */
  readonly onError?: ((error: Error, deliveryId: string) => void) | undefined
  /** Injected for tests. */
  readonly fetch?: typeof fetch | undefined
  readonly nowSeconds?: (() => number) | undefined
  /** `user-agent` of the deliveries; default `skillgate`. */
  readonly userAgent?: string | undefined
}

export interface Delivery {
  /** `skillgate-delivery` header: receivers de-duplicate retries by it. */
  readonly id: string
  /** `skillgate-event` header. */
  readonly event: string
  readonly body: string
}

export type ChannelStats = AuditSinkStats

const retryable = (status: number): boolean => status === 408 || status === 425 || status === 429 || status >= 500

export class WebhookChannel {
  readonly name: string
  readonly #url: URL
  readonly #options: WebhookChannelOptions
  readonly #queue: Delivery[] = []
  readonly #counts = { delivered: 0, dropped: 0, failed: 0, retries: 0 }
  #running: Promise<void> | undefined
  #closed = false

  constructor(options: WebhookChannelOptions) {
    this.#url = new URL(options.url)
    if (this.#url.protocol !== 'https:' && this.#url.protocol !== 'http:') throw new TypeError('webhook url must be http(s)')
    this.#options = options
    // The host only: a Slack webhook's path is its secret.
    this.name = `webhook:${this.#url.host}`
  }

  /** Enqueues; returns at once. Drops (and counts) when the queue is full or the channel closed. */
  send(delivery: Delivery): void {
    if (this.#closed || this.#queue.length >= (this.#options.queueSize ?? 1_000)) {
      this.#counts.dropped += 1
      return
    }
    this.#queue.push(delivery)
    this.#running ??= this.#pump().finally(() => {
      this.#running = undefined
    })
  }

  async flush(): Promise<void> {
    while (this.#running) await this.#running
  }

  async close(): Promise<void> {
    await this.flush()
    this.#closed = true
  }

  stats(): ChannelStats {
    return { queued: this.#queue.length, ...this.#counts }
  }

  async #pump(): Promise<void> {
    for (let next = this.#queue[0]; next !== undefined; next = this.#queue[0]) {
      await this.#deliver(next)
      this.#queue.shift()
    }
  }

  async #deliver(delivery: Delivery): Promise<void> {
    const maxAttempts = this.#options.maxAttempts ?? 6
    const baseDelay = this.#options.baseDelayMs ?? 500
    for (let n = 1; ; n++) {
      const result = await this.#attempt(delivery)
      if (result === 'ok') {
        this.#counts.delivered += 1
        return
      }
      if (result === 'final' || n >= maxAttempts) {
        this.#counts.failed += 1
        this.#options.onError?.(new Error(`webhook delivery gave up after ${n} attempt(s)`), delivery.id)
        return
      }
      this.#counts.retries += 1
      const backoff = Math.min(this.#options.maxDelayMs ?? 30_000, baseDelay * 2 ** (n - 1))
      // Half fixed, half jitter: receivers recovering from an outage are not hit in lockstep.
      await sleep(backoff / 2 + Math.random() * (backoff / 2))
    }
  }

  async #attempt(delivery: Delivery): Promise<'ok' | 'retry' | 'final'> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': this.#options.userAgent ?? 'skillgate',
      'skillgate-delivery': delivery.id,
      'skillgate-event': delivery.event,
    }
    const secret = this.#options.secret
    if (secret !== undefined) {
      const now = this.#options.nowSeconds?.() ?? Math.floor(Date.now() / 1000)
      headers[signatureHeader] = signWebhookBody(revealSecret(secret), delivery.body, now)
    }
    try {
      const doFetch = this.#options.fetch ?? fetch
      const signal = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000)
      const response = await doFetch(this.#url, { method: 'POST', headers, body: delivery.body, redirect: 'manual', signal })
      await response.body?.cancel().catch(() => undefined)
      if (response.ok) return 'ok'
      return retryable(response.status) ? 'retry' : 'final'
    } catch {
      return 'retry'
    }
  }
}
