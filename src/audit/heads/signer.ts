import type { ChainHead } from '../chain.js'
import type { AuditStore } from '../../storage/ports.js'
import type { AuditHeadLine, HeadEvent, HeadPayload, StoredHead } from './head.js'
import { headType } from './head.js'
import { signHead, type HeadSigningKey } from './jws.js'

/**
 * Signs chain heads while the gateway runs (`audit.signing`): at start-up (the stored head, so
 * records committed before a SIGKILL are covered by the next head), every `everyRecords` completed
 * records or `everyMs`, whichever comes first, and at shutdown; retention checkpoints are signed
 * inside the pruning transaction (`checkpointSigner`). A head goes to the store's `audit_heads`
 * and to every sink. It signs positions this writer committed itself (receipts), never a head
 * read back from the store while running.
 */
export interface HeadSignerOptions {
  readonly key: HeadSigningKey
  readonly store: Pick<AuditStore, 'saveHead' | 'saveHeadTimestamp' | 'chainHead' | 'writerId'>
  readonly everyRecords: number
  readonly everyMs: number
  readonly now: () => Date
  /** Hands a head line to every sink. */
  readonly publish: (line: AuditHeadLine) => void
  /** A head that could not be stored (it still went to the sinks). */
  readonly onError: (error: Error) => void
  /**
   * `audit.timestamping`: an RFC 3161 TimeStampToken (DER, base64) over the JWS bytes, verified;
   * throws when none can be had. Absent: heads go out without a timestamp.
   */
  readonly timestamp?: (jws: string) => Promise<string>
  /** No timestamp for a head (TSA down, refused, or an answer that does not verify): it goes out without one. */
  readonly onTimestampError?: (error: Error) => void
}

export class HeadSigner {
  readonly #options: HeadSignerOptions
  /** The newest position this writer committed. */
  #latest: ChainHead | undefined
  /** Position of the last head signed by this writer (-1: none yet). */
  #signedAt = -1
  #recordsSince = 0
  #timer: NodeJS.Timeout | undefined
  readonly #saving = new Set<Promise<void>>()

  constructor(options: HeadSignerOptions) {
    this.#options = options
  }

  /** Signs the stored head now (stored before this resolves) and starts the timer. */
  async start(): Promise<void> {
    await this.#emit(this.sign(await this.#options.store.chainHead()))
    this.#timer = setInterval(() => this.tick(), this.#options.everyMs)
    this.#timer.unref()
  }

  /** AuditWriter's `onCommitted`. */
  committed(receipt: ChainHead, op: 'begin' | 'complete'): void {
    if (this.#latest === undefined || receipt.seq > this.#latest.seq) this.#latest = { seq: receipt.seq, hash: receipt.hash }
    if (op === 'complete') this.#recordsSince += 1
    if (this.#recordsSince >= this.#options.everyRecords) this.tick()
  }

  /** Signs the newest committed position if no head covers it yet (the timer's job; tests call it). */
  tick(): void {
    const latest = this.#latest
    if (latest === undefined || latest.seq <= this.#signedAt) return
    void this.#emit(this.sign(latest))
  }

  /** Synchronous signing of one head (also for retention, inside its transaction). */
  sign(point: ChainHead, event?: HeadEvent, details: Pick<HeadPayload, 'lost' | 'before'> = {}): StoredHead {
    const now = this.#options.now()
    const payload: HeadPayload = {
      type: headType,
      v: 1,
      position: point.seq,
      hash: point.hash,
      time: now.toISOString(),
      writer: this.#options.store.writerId,
      ...(event ? { event } : {}),
      ...details,
    }
    if (event !== 'restore') {
      this.#signedAt = Math.max(this.#signedAt, point.seq)
      this.#recordsSince = 0
    }
    return { position: point.seq, time: now.getTime(), writer: payload.writer, event: event ?? null, jws: signHead(this.#options.key, payload) }
  }

  /** For `AuditStore.prune`: signs the checkpoint in the pruning transaction. */
  checkpointSigner(): (checkpoint: ChainHead & { readonly before: number }) => StoredHead {
    return ({ seq, hash, before }) => this.sign({ seq, hash }, 'checkpoint', { before: new Date(before).toISOString() })
  }

  /** Sends a head made elsewhere (the checkpoint head `prune` stored) to the sinks, timestamped first when configured. */
  published(head: StoredHead): void {
    this.#track(this.#stamped(head))
  }

  /** Resolves when every head signed so far is stored, timestamped (when configured) and published. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#saving])
  }

  /** Stops the timer, signs what is not covered yet (the shutdown head) and waits for the store (and the TSA, up to its timeout). */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.tick()
    await this.settled()
  }

  /**
   * Without timestamping a head goes to the sinks at once and to the store. With it, the head is
   * stored first (a TSA outage or a crash never costs a head), then timestamped, and goes to the
   * sinks once with its token — or without one when the TSA failed; the next head asks again. A
   * head line may then follow records newer than its position by up to `audit.timestamping.timeout`.
   */
  #emit(head: StoredHead): Promise<void> {
    if (this.#options.timestamp === undefined) this.#options.publish({ type: 'audit_head', jws: head.jws })
    const saved = this.#options.store.saveHead(head).catch((error: unknown) => this.#options.onError(asError(error)))
    // Resolves once stored: start-up never waits for the TSA; close() waits for the timestamp too.
    this.#track(this.#options.timestamp === undefined ? saved : saved.then(() => this.#stamped(head)))
    return saved
  }

  /** Asks the TSA for the head's token, stores it, and publishes the head (with the token when one came). */
  async #stamped(head: StoredHead): Promise<void> {
    const timestamp = this.#options.timestamp
    if (timestamp === undefined) {
      this.#options.publish({ type: 'audit_head', jws: head.jws })
      return
    }
    let token: string | undefined
    try {
      token = await timestamp(head.jws)
    } catch (error) {
      this.#options.onTimestampError?.(asError(error))
    }
    this.#options.publish({ type: 'audit_head', jws: head.jws, ...(token === undefined ? {} : { timestamp: token }) })
    if (token !== undefined) await this.#options.store.saveHeadTimestamp(head.jws, token).catch((error: unknown) => this.#options.onError(asError(error)))
  }

  #track(work: Promise<void>): void {
    this.#saving.add(work)
    void work.finally(() => this.#saving.delete(work))
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
