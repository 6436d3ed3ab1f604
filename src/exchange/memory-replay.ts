/**
 * An in-memory `ReplayGuard` for tests and single-process use. Production backs the guard with the
 * shared store so replicas agree (workload-identity.md §6). Entries live until the assertion's `exp`;
 * when the table is full of live entries it fails closed (throws) rather than forget one.
 */
import type { ReplayGuard } from './types.js'

export interface MemoryReplayGuardOptions {
  readonly now?: () => number
  readonly maxEntries?: number
}

export interface MemoryReplayGuard extends ReplayGuard {
  readonly size: number
}

/** @example const replay = createMemoryReplayGuard(); await replay.useOnce(iss, jti, expiresAt) // true, then false */
export function createMemoryReplayGuard(options: MemoryReplayGuardOptions = {}): MemoryReplayGuard {
  const now = options.now ?? Date.now
  const maxEntries = options.maxEntries ?? 100_000
  const seen = new Map<string, number>()

  const prune = () => {
    const nowMs = now()
    for (const [key, expiresAt] of seen) if (expiresAt <= nowMs) seen.delete(key)
  }

  return {
    get size() {
      return seen.size
    },
    async useOnce(iss, jti, expiresAt) {
      // Length-prefixed: ("a", "bc") and ("ab", "c") are different keys.
      const key = `${iss.length}:${iss}${jti}`
      const known = seen.get(key)
      if (known !== undefined && known > now()) return false
      if (seen.size >= maxEntries) prune()
      if (seen.size >= maxEntries) throw new Error('replay table full')
      seen.set(key, expiresAt.getTime())
      return true
    },
  }
}
