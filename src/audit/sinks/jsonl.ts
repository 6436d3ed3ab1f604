import { createWriteStream, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Writable } from 'node:stream'
import type { AuditSink, AuditSinkStats } from './types.js'

/**
 * One JSON line per record, appended to a file or written to stdout (`path: "-"`), for log
 * shippers. Lines in flight are bounded: a stalled disk or pipe makes the sink drop and count, never
 * grow without bound or slow down requests.
 */
export interface JsonlSinkOptions {
  /** A file path (appended, directory created) or "-" for stdout. */
  readonly path: string
  /** Lines accepted but not yet written before new ones are dropped; default 10 000. */
  readonly queueSize?: number
  /** Reports write errors (never the record content). */
  readonly onError?: (error: Error) => void
  /** Injected for tests. */
  readonly stream?: Writable
}

export function createJsonlSink(options: JsonlSinkOptions): AuditSink {
  const toStdout = options.path === '-'
  const stream = options.stream ?? (toStdout ? process.stdout : openFile(options.path))
  const ownsStream = options.stream === undefined && !toStdout
  const queueSize = options.queueSize ?? 10_000
  const counts = { delivered: 0, dropped: 0, failed: 0, retries: 0 }
  let pending = 0
  let closed = false
  let waiters: Array<() => void> = []
  stream.on('error', (error: Error) => options.onError?.(error))

  const settle = (error?: Error | null): void => {
    pending -= 1
    if (error) {
      counts.failed += 1
      options.onError?.(error)
    } else counts.delivered += 1
    if (pending === 0) {
      const ready = waiters
      waiters = []
      for (const resolve of ready) resolve()
    }
  }

  const writeLine = (line: string): void => {
    if (closed || pending >= queueSize || stream.destroyed) {
      counts.dropped += 1
      return
    }
    pending += 1
    stream.write(`${line}\n`, settle)
  }

  return {
    name: toStdout ? 'jsonl:stdout' : `jsonl:${options.path}`,
    publish: (record) => writeLine(JSON.stringify(record)),
    publishHead: (head) => writeLine(JSON.stringify(head)),
    flush() {
      return pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))
    },
    async close() {
      await this.flush()
      closed = true
      if (ownsStream) await new Promise<void>((resolve) => stream.end(resolve))
    },
    stats(): AuditSinkStats {
      return { queued: pending, ...counts }
    },
  }
}

function openFile(path: string): Writable {
  mkdirSync(dirname(path), { recursive: true })
  return createWriteStream(path, { flags: 'a' })
}
