import { describe, expect, it } from 'vitest'
import type { StoredGatewayKey } from '../../src/storage/ports-keys.js'
import type { ContractContext } from './storage-contract.js'

/** Minted token sources (issue #13) and sealed gateway signing keys (issue #14), shared by every instance. */
export function gatewayTokenContract(ctx: ContractContext): void {
  describe('minted token sources', () => {
    it('keeps a source as JSON for every instance until it expires', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      const claims = { iss: 'https://ci.example', sub: 'repo:acme/app', repository_id: '42', nested: { list: [1, 'two', null] }, flag: true }
      await a.minted.put('jti-1', { issuerId: 'github', claims }, new Date(ctx.clock.t + 60_000))
      expect(await b.minted.get('jti-1')).toEqual({ issuerId: 'github', claims })
      expect(await b.minted.get('jti-2')).toBeUndefined()
      ctx.clock.advance(60_000)
      expect(await a.minted.get('jti-1')).toBeUndefined()
    })

    it('purges expired rows in amortised steps as it records new ones', async () => {
      const storage = await ctx.open()
      const expiresAt = new Date(ctx.clock.t + 1_000)
      for (let i = 0; i < 255; i++) await storage.minted.put(`old-${i}`, { issuerId: 'i', claims: {} }, expiresAt)
      ctx.clock.advance(1_000)
      expect(Number((await ctx.env.sql('SELECT COUNT(*) AS n FROM minted_tokens'))[0]!.n)).toBe(255)
      await storage.minted.put('new', { issuerId: 'i', claims: { a: 1 } }, new Date(ctx.clock.t + 60_000))
      expect((await ctx.env.sql('SELECT jti FROM minted_tokens')).map((r) => r.jti)).toEqual(['new'])
    })

    it('refuses an empty jti and an invalid expiry', async () => {
      const storage = await ctx.open()
      await expect(storage.minted.put('', { issuerId: 'i', claims: {} }, new Date(ctx.clock.t + 1_000))).rejects.toThrow(/jti/)
      await expect(storage.minted.put('j', { issuerId: 'i', claims: {} }, new Date(Number.NaN))).rejects.toThrow(/expiresAt/)
    })
  })

  describe('gateway signing keys', () => {
    const key = (kid: string, createdAt: number): StoredGatewayKey => ({ kid, createdAt: new Date(createdAt), sealed: `sealed-${kid}` })
    const kids = (keys: readonly StoredGatewayKey[]) => keys.map((k) => k.kid)

    it('of several instances due at once, exactly one rotates', async () => {
      const [a, b] = [await ctx.open(), await ctx.open()]
      await a.gatewayKeys.seed([key('k0', ctx.clock.t - 100_000)])
      const dueBefore = new Date(ctx.clock.t - 50_000)
      const results = await Promise.all(['k1', 'k2', 'k3', 'k4'].map((kid, i) => (i % 2 ? a : b).gatewayKeys.rotate({ key: key(kid, ctx.clock.t), onlyIfNewestBefore: dueBefore, retainMs: 600_000 })))
      expect(results.filter((r) => r.added)).toHaveLength(1)
      const listed = await b.gatewayKeys.list()
      expect(listed).toHaveLength(2)
      expect(listed[1]).toEqual(key('k0', ctx.clock.t - 100_000))
    })

    it('drops a retired key once its tokens have expired, and every other key on revocation', async () => {
      const storage = await ctx.open()
      await storage.gatewayKeys.rotate({ key: key('k1', ctx.clock.t), retainMs: 10_000 })
      ctx.clock.advance(5_000)
      await storage.gatewayKeys.rotate({ key: key('k2', ctx.clock.t), retainMs: 10_000 })
      expect(kids(await storage.gatewayKeys.list())).toEqual(['k2', 'k1'])
      ctx.clock.advance(10_000)
      const third = await storage.gatewayKeys.rotate({ key: key('k3', ctx.clock.t), retainMs: 10_000 })
      expect(kids(third.keys)).toEqual(['k3', 'k2'])
      const revoked = await storage.gatewayKeys.rotate({ key: key('k4', ctx.clock.t + 1), retainMs: 10_000, revokeOthers: true })
      expect(kids(revoked.keys)).toEqual(['k4'])
      expect(kids(await storage.gatewayKeys.list())).toEqual(['k4'])
    })

    it('imports keys only into an empty store', async () => {
      const storage = await ctx.open()
      expect(kids(await storage.gatewayKeys.seed([key('f1', ctx.clock.t), key('f0', ctx.clock.t - 1)]))).toEqual(['f1', 'f0'])
      expect(kids(await storage.gatewayKeys.seed([key('other', ctx.clock.t + 5)]))).toEqual(['f1', 'f0'])
    })
  })
}
