import type { AuditHeadLine } from '../heads/head.js'
import type { AuditRecord } from '../record.js'

/**
 * A destination that receives every completed record after it was committed (a SIEM webhook, a
 * JSONL file for log shippers). Sinks are copies for outside consumers, never the system of record:
 * `publish` must not block or throw, queues are bounded, and what cannot be kept is counted.
 */
export interface AuditSink {
  readonly name: string
  /** Enqueue; returns at once. Drops (and counts) when the queue is full. */
  publish(record: AuditRecord): void
  /** Enqueue a signed chain head (audit.signing), in order with the records; same rules as `publish`. */
  publishHead(head: AuditHeadLine): void
  /** Resolves when everything published so far was delivered or given up on. */
  flush(): Promise<void>
  /** Flushes, then releases resources; later publishes are dropped. */
  close(): Promise<void>
  stats(): AuditSinkStats
}

export interface AuditSinkStats {
  readonly queued: number
  readonly delivered: number
  /** Not accepted because the queue was full (or the sink closed). */
  readonly dropped: number
  /** Accepted but given up on after the last retry. */
  readonly failed: number
  readonly retries: number
}

/** A secret as the config layer resolves it (`Secret` has `reveal()`), or a plain string in tests. */
export type SinkSecret = string | { reveal(): string }

export function revealSecret(secret: SinkSecret): string {
  return typeof secret === 'string' ? secret : secret.reveal()
}
