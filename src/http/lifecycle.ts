import type { Server } from 'node:http'
import type { Logger } from 'pino'

/**
 * Where the server is in its life — serving, leaving (only /readyz says 503 so load balancers stop
 * sending), draining (new /v1 requests refused) — and which requests are in flight, so a drain and a
 * configuration reload can wait for them.
 */
export interface Lifecycle {
  readonly leaving: boolean
  readonly draining: boolean
  /** Counts `task` as in flight until it settles (a rejection is logged). */
  track(task: Promise<void>): void
  /** Resolves when every request in flight now has finished; requests that start later are not waited for. */
  settledInFlight(): Promise<void>
  /**
   * Answers /readyz with 503 for `delayMs` while still serving, then stops accepting, lets requests
   * and streams in flight finish up to `timeoutMs`, then cuts the rest.
   */
  drain(timeoutMs: number, delayMs?: number): Promise<void>
}

export function createLifecycle(server: Server, logger: Logger): Lifecycle {
  const inFlight = new Set<Promise<void>>()
  let leaving = false
  let draining = false

  async function drain(timeoutMs: number, delayMs = 0): Promise<void> {
    leaving = true
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
    draining = true
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref())
    const outcome = await Promise.race([Promise.allSettled([...inFlight]).then(() => 'done' as const), deadline])
    if (outcome === 'timeout') logger.warn({ inFlight: inFlight.size }, 'drain timeout: closing remaining connections')
    server.closeAllConnections()
    await closed
  }

  return {
    get leaving() {
      return leaving
    },
    get draining() {
      return draining
    },
    track(task) {
      // Handlers answer their own failures; one that still rejects is logged, never left unhandled.
      const tracked = task.catch((error: unknown) => logger.error({ err: error }, 'request handler failed')).finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
    },
    settledInFlight: () => Promise.allSettled([...inFlight]).then(() => undefined),
    drain,
  }
}
