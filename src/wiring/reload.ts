import type { Logger } from 'pino'
import type { Generation } from './generation.js'

/**
 * Longest a replaced configuration's parts stay open for requests that started under it. They
 * usually close much sooner — once those requests have finished — so this only bounds a request
 * that never ends (a stream left open, a request held for approval).
 */
export const DEFAULT_RELOAD_GRACE_MS = 10 * 60_000

export interface GenerationsOptions {
  /** Resolves when every request in flight now has finished (`Lifecycle.settledInFlight`). */
  readonly settledInFlight: () => Promise<void>
  readonly graceMs: number
  /** Installs the new generation where requests find it (the server's pipeline). */
  readonly install: (next: Generation) => void
  readonly logger: Logger
}

/** The configuration in force, and the replaced ones still finishing their requests. */
export interface Generations {
  readonly current: Generation
  /** Makes `next` current at once; the previous one closes after the requests it was serving. */
  replace(next: Generation): void
  /** Closes the current generation and any still retiring (shutdown, after the drain). */
  closeAll(): void
}

export function holdGenerations(first: Generation, options: GenerationsOptions): Generations {
  let current = first
  options.install(first)
  const retiring = new Set<Generation>()

  function retire(previous: Generation): void {
    retiring.add(previous)
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.graceMs)))
    timer?.unref()
    void Promise.race([options.settledInFlight(), grace]).then(() => {
      clearTimeout(timer)
      if (!retiring.delete(previous)) return
      previous.close()
      options.logger.debug({ config: previous.config.source }, 'previous configuration closed')
    })
  }

  return {
    get current() {
      return current
    },
    replace(next) {
      const previous = current
      current = next
      options.install(next)
      retire(previous)
    },
    closeAll() {
      for (const generation of retiring) generation.close()
      retiring.clear()
      current.close()
    },
  }
}
