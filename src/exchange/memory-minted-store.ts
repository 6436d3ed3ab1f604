/**
 * An in-memory `MintedTokenStore` for one process (and tests). Entries expire with their gateway
 * token; when the table is full of live entries `put` throws, so minting fails closed rather than
 * forgetting the source of a token that is still valid. After a restart every source is gone and
 * live gateway tokens are refused with 401: the SDKs then exchange again.
 */
import type { MintedTokenSource, MintedTokenStore } from '../storage/ports-minted.js'

export interface MemoryMintedStoreOptions {
  readonly now?: () => number
  /** Default 100 000: at a 5 min TTL, over 300 exchanges a second. */
  readonly maxEntries?: number
}

export interface MemoryMintedStore extends MintedTokenStore {
  readonly size: number
}

/** @example const minted = createMemoryMintedStore(); await minted.put(jti, { issuerId, claims }, expiresAt) */
export function createMemoryMintedStore(options: MemoryMintedStoreOptions = {}): MemoryMintedStore {
  const now = options.now ?? Date.now
  const maxEntries = options.maxEntries ?? 100_000
  const entries = new Map<string, { readonly source: MintedTokenSource; readonly expiresAt: number }>()

  const prune = () => {
    const nowMs = now()
    for (const [jti, entry] of entries) if (entry.expiresAt <= nowMs) entries.delete(jti)
  }

  return {
    get size() {
      return entries.size
    },
    async put(jti, source, expiresAt) {
      if (entries.size >= maxEntries) prune()
      if (entries.size >= maxEntries) throw new Error('minted token table full')
      entries.set(jti, { source, expiresAt: expiresAt.getTime() })
    },
    async get(jti) {
      const entry = entries.get(jti)
      if (entry === undefined) return undefined
      if (entry.expiresAt <= now()) {
        entries.delete(jti)
        return undefined
      }
      return entry.source
    },
  }
}
