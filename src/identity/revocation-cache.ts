import type { RevocationSnapshot, RevocationStore } from '../storage/ports.js'
import { revocationTokenKey } from '../storage/ports.js'
import { sourceValue } from './source-value.js'

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
  let hashedTokens = hashedTokenKeys(snapshot)
  let loadedAt = now()
  let inFlight: Promise<void> | undefined

  const poll = (force: boolean): Promise<void> =>
    (inFlight ??= (async () => {
      try {
        const version = force ? Number.NaN : await store.version()
        if (version !== snapshot.version) {
          snapshot = await store.snapshot()
          hashedTokens = hashedTokenKeys(snapshot)
        }
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
        const key = revocationTokenKey(iss, jti)
        const until = snapshot.tokens.get(key) ?? hashedTokens.get(key)
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
    // A poll under way may have read the store before the caller's change committed: wait it out,
    // then read again, so the change applies here before refresh resolves.
    async refresh() {
      while (inFlight !== undefined) await inFlight
      await poll(true)
    },
    close: () => clearInterval(timer),
  }
}

/**
 * Revoked tokens whose `iss` or `jti` is too long for a gateway token's `src`, keyed by the hashed
 * form `src` carries (`sourceValue`), so a token minted from one is caught like its source.
 */
function hashedTokenKeys(snapshot: RevocationSnapshot): ReadonlyMap<string, number> {
  const out = new Map<string, number>()
  for (const [key, until] of snapshot.tokens) {
    const [iss, jti] = JSON.parse(key) as [string, string]
    const bound = revocationTokenKey(sourceValue(iss), sourceValue(jti))
    if (bound !== key) out.set(bound, until)
  }
  return out
}
