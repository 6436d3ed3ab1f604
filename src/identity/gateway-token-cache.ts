/**
 * Remembers verified gateway tokens by their exact string, like `cacheVerifications` does for
 * workload tokens (ES256 verification is the gateway's largest CPU cost), with one more condition:
 * a hit counts only while the token's `kid` is still in the key ring. Dropping a key
 * (`keys rotate --now --revoke-previous`) thus refuses its tokens at the next ring refresh, not
 * after the cache entry ages out.
 */
export interface VerifiedTokenCache<T> {
  get(token: string, knows: (kid: string) => boolean): T | undefined
  set(token: string, kid: string, value: T, expMs: number): void
}

export function createVerifiedTokenCache<T>(now: () => number, maxEntries = 10_000, maxAgeMs = 30_000): VerifiedTokenCache<T> {
  const entries = new Map<string, { readonly value: T; readonly kid: string; readonly until: number }>()
  return {
    get(token, knows) {
      const hit = entries.get(token)
      if (hit === undefined) return undefined
      if (hit.until > now() && knows(hit.kid)) return hit.value
      entries.delete(token)
      return undefined
    },
    set(token, kid, value, expMs) {
      entries.set(token, { value, kid, until: Math.min(now() + maxAgeMs, expMs) })
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
    },
  }
}
