import { describe, expect, it } from 'vitest'
import { StorageError } from '../../src/storage/errors.js'
import type { ContractContext } from './storage-contract.js'

export function ownershipContract(ctx: ContractContext): void {
  describe('object ownership', () => {
    it('records owners once, first writer wins, and every instance reads them at once', async () => {
      const a = await ctx.open()
      const b = await ctx.open()
      await a.owners.record([{ kind: 'batch', id: 'msgbatch_1' }, { kind: 'file', id: 'file_1' }], { principal: 'gha:1/1', rule: 'ci' })
      // Another replica learns the same batch for another principal: the first owner stays.
      await b.owners.record([{ kind: 'batch', id: 'msgbatch_1' }, { kind: 'batch', id: 'msgbatch_2' }], { principal: 'gha:1/2', rule: 'other' })
      const batches = await b.owners.owners('batch', ['msgbatch_1', 'msgbatch_2', 'msgbatch_3'])
      expect(batches.get('msgbatch_1')).toMatchObject({ kind: 'batch', principal: 'gha:1/1', rule: 'ci', assignedBy: null, createdAt: new Date(ctx.clock.t) })
      expect(batches.get('msgbatch_2')?.principal).toBe('gha:1/2')
      expect(batches.has('msgbatch_3')).toBe(false)
      // Kinds are separate name spaces: a file id is not a batch.
      expect((await a.owners.owners('batch', ['file_1'])).size).toBe(0)
      expect((await a.owners.owners('file', ['file_1'])).get('file_1')?.principal).toBe('gha:1/1')
      expect((await a.owners.owners('file', [])).size).toBe(0)
    })

    it('forgets the owner of a deleted object, on every instance, and only that one', async () => {
      const a = await ctx.open()
      const b = await ctx.open()
      await a.owners.record([{ kind: 'file', id: 'file_gone' }, { kind: 'file', id: 'file_kept' }, { kind: 'batch', id: 'file_gone' }], { principal: 'gha:1/1', rule: 'ci' })
      await b.owners.forget({ kind: 'file', id: 'file_gone' })
      await b.owners.forget({ kind: 'file', id: 'file_never_seen' })
      expect([...(await a.owners.owners('file', ['file_gone', 'file_kept'])).keys()]).toEqual(['file_kept'])
      expect((await a.owners.owners('batch', ['file_gone'])).size).toBe(1)
      await expect(a.owners.forget({ kind: 'nope' as 'file', id: 'x' })).rejects.toBeInstanceOf(StorageError)
    })

    it('assigns an owner, replacing the earlier one, and names the previous owner', async () => {
      const a = await ctx.open()
      expect(await a.owners.assign({ kind: 'container', id: 'container_9' }, { principal: 'gha:1/1', rule: null }, 'admin:ops')).toBeUndefined()
      ctx.clock.advance(1_000)
      const previous = await a.owners.assign({ kind: 'container', id: 'container_9' }, { principal: 'gha:1/3', rule: 'ci' }, 'admin:ops')
      expect(previous).toMatchObject({ principal: 'gha:1/1', rule: null, assignedBy: 'admin:ops' })
      const now = (await a.owners.owners('container', ['container_9'])).get('container_9')
      expect(now).toMatchObject({ principal: 'gha:1/3', rule: 'ci', assignedBy: 'admin:ops', createdAt: new Date(ctx.clock.t) })
      // A response learned afterwards does not move it back.
      await a.owners.record([{ kind: 'container', id: 'container_9' }], { principal: 'gha:1/1', rule: 'ci' })
      expect((await a.owners.owners('container', ['container_9'])).get('container_9')?.principal).toBe('gha:1/3')
    })

    it('looks up many ids in one call and refuses what it cannot store', async () => {
      const a = await ctx.open()
      const ids = Array.from({ length: 300 }, (_, i) => `file_${i}`)
      await a.owners.record(ids.map((id) => ({ kind: 'file' as const, id })), { principal: 'p', rule: 'r' })
      const found = await a.owners.owners('file', [...ids, 'file_x', 'file_0'])
      expect(found.size).toBe(300)
      await expect(a.owners.record([{ kind: 'widget' as 'file', id: 'x' }], { principal: 'p', rule: null })).rejects.toSatisfy(StorageError.is)
      await expect(a.owners.record([{ kind: 'file', id: '' }], { principal: 'p', rule: null })).rejects.toSatisfy(StorageError.is)
      await expect(a.owners.record([{ kind: 'file', id: 'f' }], { principal: '', rule: null })).rejects.toSatisfy(StorageError.is)
      await expect(a.owners.owners('widget' as 'file', ['x'])).rejects.toSatisfy(StorageError.is)
    })

    it('keeps Managed Agents objects per kind, and the table itself refuses a kind it does not know', async () => {
      const a = await ctx.open()
      const kinds = ['agent', 'environment', 'session', 'deployment', 'deployment_run', 'vault', 'memory_store', 'tunnel'] as const
      await a.owners.record(kinds.map((kind) => ({ kind, id: `${kind}_1` })), { principal: 'gha:1/1', rule: 'agents' })
      for (const kind of kinds) expect((await a.owners.owners(kind, [`${kind}_1`, 'agent_1'])).get(`${kind}_1`)).toMatchObject({ kind, principal: 'gha:1/1', rule: 'agents' })
      // One id under two kinds is two objects.
      expect((await a.owners.owners('session', ['agent_1'])).size).toBe(0)
      expect(await a.owners.assign({ kind: 'tunnel', id: 'tunnel_2' }, { principal: 'gha:1/2', rule: null }, 'admin:ops')).toBeUndefined()
      expect((await a.owners.owners('tunnel', ['tunnel_2'])).get('tunnel_2')?.assignedBy).toBe('admin:ops')
      // The CHECK constraint holds even for a writer that skips the store's own validation.
      await expect(ctx.env.sql('INSERT INTO owned_objects (kind, id, principal, rule, created_at, assigned_by) VALUES ($1, $2, $3, NULL, 0, NULL)', ['widget', 'w_1', 'p'])).rejects.toThrow(/check|constraint/i)
      await ctx.env.sql('INSERT INTO owned_objects (kind, id, principal, rule, created_at, assigned_by) VALUES ($1, $2, $3, NULL, 0, NULL)', ['memory_store', 'memstore_raw', 'p'])
      expect((await a.owners.owners('memory_store', ['memstore_raw'])).get('memstore_raw')?.principal).toBe('p')
    })
  })
}
