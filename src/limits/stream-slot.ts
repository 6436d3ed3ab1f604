import type { CounterStore, SlotLease } from '../storage/ports.js'

/**
 * A held concurrency slot. The lease in the store has a short TTL so a crashed process cannot keep
 * slots forever; while the stream runs, the slot renews itself every third of the TTL, so a long
 * stream keeps it. If a renewal finds the lease gone (the process was stalled past the TTL), the
 * stream goes on: cutting a running response would punish the client for the gateway's pause.
 */
export interface StreamSlot {
  readonly lease: SlotLease
  /** Stops renewing and frees the slot; idempotent, never rejects. */
  release(): Promise<void>
}

export interface StreamSlotOptions {
  readonly ttlMs: number
  readonly now: () => number
  readonly onError: (error: Error) => void
}

export async function openStreamSlot(counters: CounterStore, key: string, max: number, options: StreamSlotOptions): Promise<StreamSlot | null> {
  const acquired = await counters.acquire(key, max, options.ttlMs, new Date(options.now()))
  if (acquired === null) return null
  let lease = acquired
  let released: Promise<void> | undefined
  const renew = async (): Promise<void> => {
    try {
      const next = await counters.renew(lease, options.ttlMs, new Date(options.now()))
      // A release that raced this renewal already deleted the lease: nothing went wrong.
      if (released !== undefined) return
      if (next !== null) lease = next
      else {
        clearInterval(timer)
        options.onError(new Error('a stream slot lease expired before it was renewed'))
      }
    } catch (error) {
      if (released === undefined) options.onError(error as Error)
    }
  }
  const timer = setInterval(() => void renew(), Math.max(1, Math.floor(options.ttlMs / 3)))
  timer.unref()
  return {
    get lease() {
      return lease
    },
    release() {
      released ??= (async () => {
        clearInterval(timer)
        try {
          await counters.release(lease)
        } catch (error) {
          // The TTL frees it anyway.
          options.onError(error as Error)
        }
      })()
      return released
    },
  }
}
