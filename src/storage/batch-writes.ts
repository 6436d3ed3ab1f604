import type { Body } from './sql/db.js'

/**
 * Writes that share the audit's group commit (issue #15 item 2). Every commit of the store is one
 * write transaction holding, in this order: the audit halves queued since the last commit, the
 * operations submitted here (an object's owner, a stream slot), and what each joined part has
 * pending (the counters' deltas). Under load one fsync then covers a whole batch of requests
 * instead of one per write; alone, a write waits one event-loop turn, as an audit half does.
 */
export interface BatchWrites {
  /**
   * Runs `body` inside the next shared commit and resolves with its result once that commit is
   * durable; rejects (StorageError) when it did not commit. A body that throws rolls its batch
   * back; the batch is then retried one operation at a time, so it fails alone.
   */
  submit<T>(what: string, body: Body<T>): Promise<T>
  /** Adds a part whose pending writes ride every commit from now on. */
  join(part: BatchPart): void
  /** Commits now what every part has pending (nothing when none has); resolves once durable. */
  flush(): Promise<void>
}

/** A source of writes that are applied in bulk, e.g. counter deltas summed in memory. */
export interface BatchPart {
  readonly pending: boolean
  /**
   * Hands over what is pending for one commit (undefined: nothing). `settled` is told the commit's
   * outcome: no error means durable; with an error the part keeps its writes for the next commit.
   */
  take(): TakenWrites | undefined
}

export interface TakenWrites {
  readonly body: Body<void>
  settled(error?: Error): void
}
