import { setTimeout as sleep } from 'node:timers/promises'
import type { AuditRecord } from '../record.js'
import { signatureHeader, signWebhookBody } from './signature.js'
import { revealSecret, type AuditSink, type AuditSinkStats, type SinkSecret } from './types.js'

/**
 * Delivers each record as one JSON POST, in order, signed with HMAC-SHA256 when a secret is set.
 * Failures (network errors, timeouts, 408, 425, 429, 5xx) are retried with exponential backoff and
 * jitter; other 4xx answers are final. The queue is bounded: when a receiver is down longer than the
 * queue lasts, new records are dropped and counted rather than held without bound (the store keeps
 * them; `audit export` can backfill).
 */
export interface WebhookSinkOptions {
  readonly url: string | URL
  readonly secret?: SinkSecret | undefined
  /** Records waiting for delivery before new ones are dropped; default 1 000. */
  readonly queueSize?: number
  /** Attempts per record, including the first; default 6. */
  readonly maxAttempts?: number
  /** First retry delay; doubles per attempt up to `maxDelayMs`. Defaults 500 ms and 30 s. */
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  /** Per attempt; default 10 s. */
  readonly timeoutMs?: number
  /** Reports given-up deliveries (never the record content). */
  readonly onError?: (error: Error, recordId: string) => void
  /** Injected for tests. */
  readonly fetch?: typeof fetch
  readonly nowSeconds?: () => number
}

const retryable = (status: number): boolean => status === 408 || status === 425 || status === 429 || status >= 500

export function createWebhookSink(options: WebhookSinkOptions): AuditSink {
  return new WebhookSink(options)
}

class WebhookSink implements AuditSink {
  readonly name: string
  readonly #url: URL
  readonly #options: WebhookSinkOptions
  readonly #queue: AuditRecord[] = []
  readonly #counts = { delivered: 0, dropped: 0, failed: 0, retries: 0 }
  #running: Promise<void> | undefined
  #closed = false

  constructor(options: WebhookSinkOptions) {
    this.#url = new URL(options.url)
    if (this.#url.protocol !== 'https:' && this.#url.protocol !== 'http:') throw new TypeError('webhook sink url must be http(s)')
    this.#options = options
    this.name = `webhook:${this.#url.host}`
  }

  publish(record: AuditRecord): void {
    if (this.#closed || this.#queue.length >= (this.#options.queueSize ?? 1_000)) {
      this.#counts.dropped += 1
      return
    }
    this.#queue.push(record)
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

  stats(): AuditSinkStats {
    return { queued: this.#queue.length, ...this.#counts }
  }

  /** One record at a time, in order; the record stays queued (and counted) until settled. */
  async #pump(): Promise<void> {
    for (let record = this.#queue[0]; record !== undefined; record = this.#queue[0]) {
      await this.#deliver(record)
      this.#queue.shift()
    }
  }

  async #deliver(record: AuditRecord): Promise<void> {
    const body = JSON.stringify(record)
    const maxAttempts = this.#options.maxAttempts ?? 6
    const baseDelay = this.#options.baseDelayMs ?? 500
    for (let n = 1; ; n++) {
      const result = await this.#attempt(record.id, body)
      if (result === 'ok') {
        this.#counts.delivered += 1
        return
      }
      if (result === 'final' || n >= maxAttempts) {
        this.#counts.failed += 1
        this.#options.onError?.(new Error(`webhook delivery gave up after ${n} attempt(s)`), record.id)
        return
      }
      this.#counts.retries += 1
      const backoff = Math.min(this.#options.maxDelayMs ?? 30_000, baseDelay * 2 ** (n - 1))
      // Half fixed, half jitter: receivers recovering from an outage are not hit in lockstep.
      await sleep(backoff / 2 + Math.random() * (backoff / 2))
    }
  }

  async #attempt(id: string, body: string): Promise<'ok' | 'retry' | 'final'> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'skillgate-audit', 'skillgate-delivery': id }
    const secret = this.#options.secret
    if (secret !== undefined) {
      const now = this.#options.nowSeconds?.() ?? Math.floor(Date.now() / 1000)
      headers[signatureHeader] = signWebhookBody(revealSecret(secret), body, now)
    }
    try {
      const doFetch = this.#options.fetch ?? fetch
      // Never follow redirects: a record must not be re-sent to a host that was not configured.
      const signal = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000)
      const response = await doFetch(this.#url, { method: 'POST', headers, body, redirect: 'manual', signal })
      await response.body?.cancel().catch(() => undefined)
      if (response.ok) return 'ok'
      return retryable(response.status) ? 'retry' : 'final'
    } catch {
      return 'retry'
    }
  }
}
