import { describe, expect, it } from 'vitest'
import { revocationTokenKey } from '../../src/storage/ports.js'
import type { ContractContext } from './storage-contract.js'

export function revocationContract(ctx: ContractContext): void {
  describe('revocations', () => {
    it('revokes principals, tokens and issuers with a version that only grows', async () => {
      const a = await ctx.open()
      const b = await ctx.open()
      const v0 = await a.revocations.version()
      const before = new Date(ctx.clock.t - 1_000)
      const v1 = await a.revocations.revokePrincipal('gha:1/1', before, { reason: 'leaked', actor: 'admin' })
      const v2 = await a.revocations.revokeToken('https://issuer.example', 'jti-1', new Date(ctx.clock.t + 600_000))
      const v3 = await a.revocations.disableIssuer('gitlab', { reason: 'incident' })
      expect([v0 < v1, v1 < v2, v2 < v3]).toEqual([true, true, true])

      // Another instance (another worker or replica) sees the same state at the same version.
      expect(await b.revocations.version()).toBe(v3)
      const snap = await b.revocations.snapshot()
      expect(snap.version).toBe(v3)
      expect(snap.principals.get('gha:1/1')).toBe(before.getTime())
      expect(snap.tokens.has(revocationTokenKey('https://issuer.example', 'jti-1'))).toBe(true)
      expect(snap.tokens.has(revocationTokenKey('https://issuer.example', 'jti-2'))).toBe(false)
      expect([...snap.issuers]).toEqual(['gitlab'])
      const listed = await b.revocations.list()
      expect(listed.map((r) => r.kind).sort()).toEqual(['issuer', 'principal', 'token'])
      expect(listed.find((r) => r.kind === 'principal')).toMatchObject({ subject: 'gha:1/1', revokedBefore: before, reason: 'leaked', actor: 'admin', jti: null })
      expect(listed.find((r) => r.kind === 'token')).toMatchObject({ subject: 'https://issuer.example', jti: 'jti-1' })

      const later = new Date(ctx.clock.t + 5_000)
      await b.revocations.revokePrincipal('gha:1/1', later)
      expect((await a.revocations.snapshot()).principals.get('gha:1/1')).toBe(later.getTime())
      const v5 = await b.revocations.liftPrincipal('gha:1/1')
      const v6 = await b.revocations.enableIssuer('gitlab')
      expect(v6).toBeGreaterThan(v5)
      const after = await a.revocations.snapshot()
      expect(after.principals.size + after.issuers.size).toBe(0)
      expect(after.tokens.size).toBe(1)
    })

    it('forgets a token revocation once the token has expired', async () => {
      const storage = await ctx.open()
      await storage.revocations.revokeToken('iss', 'short', new Date(ctx.clock.t + 1_000))
      expect((await storage.revocations.snapshot()).tokens.size).toBe(1)
      ctx.clock.advance(1_001)
      expect((await storage.revocations.snapshot()).tokens.size).toBe(0)
      expect(await storage.revocations.list()).toEqual([])
    })
  })

  describe('replay', () => {
    it('accepts an assertion once until it expires', async () => {
      const a = await ctx.open()
      const b = await ctx.open()
      const exp = new Date(ctx.clock.t + 60_000)
      expect(await a.replay.useOnce('iss', 'j1', exp)).toBe(true)
      expect(await a.replay.useOnce('iss', 'j1', exp)).toBe(false)
      expect(await b.replay.useOnce('iss', 'j1', exp)).toBe(false)
      expect(await b.replay.useOnce('iss', 'j2', exp)).toBe(true)
      expect(await b.replay.useOnce('other-iss', 'j1', exp)).toBe(true)
      ctx.clock.advance(60_001)
      expect(await a.replay.useOnce('iss', 'j1', new Date(ctx.clock.t + 60_000))).toBe(true)
    })

    it('lets exactly one of many concurrent uses win', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const exp = new Date(ctx.clock.t + 60_000)
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).replay.useOnce('iss', 'race', exp)))
      expect(results.filter(Boolean)).toHaveLength(1)
    })
  })
}
