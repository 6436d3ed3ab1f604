import type { RevocationSnapshot, RevocationStore } from '../storage/ports.js'
import { revocationTokenKey } from '../storage/ports.js'

/**
 * Revocations in force, held in memory for O(1) checks on every request and refreshed from the
 * shared store (workload-identity.md §6): the store's version is polled every `pollMs` and the
 * snapshot reloaded only when it moved, so a revocation made anywhere applies within about a second
 * (immediately in the process that made it, through `refresh`). If the store cannot be read for
 * longer than `maxStaleMs`, every check fails closed.
 */
export type RevocationVerdict = 'ok' | 'issuer-disabled' | 'token-revoked' | 'principal-revoked' | 'unavailable'

export interface RevocationCache {
  /** Issuer switch and (iss, jti) deny-list: checked right after the token verifies. */
  checkToken(issuerId: string, iss: string, jti: string | undefined): RevocationVerdict
  /** Principal cut-off: tokens issued (iat, seconds) at or before `revoked_before` are refused. */
  checkPrincipal(principal: string, issuedAtSeconds: number | undefined): RevocationVerdict
  /** False once the store could not be read for longer than `maxStaleMs` (every check then fails closed). */
  fresh(): boolean
  refresh(): Promise<void>
  close(): void
}

export interface RevocationCacheOptions {
  readonly pollMs?: number
  readonly maxStaleMs?: number
  readonly now?: () => number
  readonly onError?: (error: Error) => void
}

export async function openRevocationCache(store: RevocationStore, options: RevocationCacheOptions = {}): Promise<RevocationCache> {
  const now = options.now ?? Date.now
  const maxStale = options.maxStaleMs ?? 10_000
  let snapshot: RevocationSnapshot = await store.snapshot()
  let loadedAt = now()
  let inFlight: Promise<void> | undefined

  const poll = (force: boolean): Promise<void> =>
    (inFlight ??= (async () => {
      try {
        const version = force ? Number.NaN : await store.version()
        if (version !== snapshot.version) snapshot = await store.snapshot()
        loadedAt = now()
      } catch (error) {
        options.onError?.(error as Error)
      } finally {
        inFlight = undefined
      }
    })())
  const timer = setInterval(() => void poll(false), options.pollMs ?? 500)
  timer.unref()
  const stale = () => now() - loadedAt > maxStale

  return {
    checkToken(issuerId, iss, jti) {
      if (stale()) return 'unavailable'
      if (snapshot.issuers.has(issuerId)) return 'issuer-disabled'
      if (jti !== undefined) {
        const until = snapshot.tokens.get(revocationTokenKey(iss, jti))
        if (until !== undefined && until > now()) return 'token-revoked'
      }
      return 'ok'
    },
    checkPrincipal(principal, issuedAtSeconds) {
      if (stale()) return 'unavailable'
      const before = snapshot.principals.get(principal)
      if (before === undefined) return 'ok'
      // A token without iat cannot prove it was issued after the cut-off.
      if (issuedAtSeconds === undefined || issuedAtSeconds * 1000 <= before) return 'principal-revoked'
      return 'ok'
    },
    fresh: () => !stale(),
    refresh: () => poll(true),
    close: () => clearInterval(timer),
  }
}
