import { afterEach, describe, expect, it, vi } from 'vitest'
import { openRevocationCache } from '../../src/identity/revocation-cache.js'
import type { RevocationSnapshot, RevocationStore } from '../../src/storage/ports.js'
import { revocationTokenKey } from '../../src/storage/ports.js'

/** A store whose reads can be held, to place a periodic poll exactly where a race would hit. */
function heldStore() {
  let current: RevocationSnapshot = { version: 1, principals: new Map(), tokens: new Map(), issuers: new Set() }
  let hold: Promise<void> | undefined
  let release = () => {}
  const store = {
    async version() {
      const seen = current.version
      await hold
      return seen
    },
    async snapshot() {
      const seen = current
      await hold
      return seen
    },
  } as unknown as RevocationStore
  return {
    store,
    holdReads() {
      hold = new Promise<void>((resolve) => (release = resolve))
    },
    release: () => {
      hold = undefined
      release()
    },
    revokeToken(iss: string, jti: string) {
      current = { ...current, version: current.version + 1, tokens: new Map([[revocationTokenKey(iss, jti), Date.now() + 60_000]]) }
    },
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('revocation cache', () => {
  it('refresh applies a change committed while a periodic poll was reading the old state', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const held = heldStore()
    const cache = await openRevocationCache(held.store, { pollMs: 500 })
    try {
      held.holdReads()
      vi.advanceTimersByTime(500) // a periodic poll is now waiting on its read of the old state
      held.revokeToken('https://ci.example', 'job-1')
      const refreshed = cache.refresh()
      held.release()
      await refreshed
      expect(cache.checkToken('ci', 'https://ci.example', 'job-1')).toBe('token-revoked')
    } finally {
      cache.close()
    }
  })
})
