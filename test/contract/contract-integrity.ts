import { describe, expect, it } from 'vitest'
import { linkHash } from '../../src/audit/chain.js'
import type { VerifyProblem } from '../../src/audit/chain-verifier.js'
import type { Storage } from '../../src/storage/ports.js'
import type { ContractContext } from './storage-contract.js'
import { completion, opening } from './fixtures.js'

/** Tamper tests: each edits the database the way someone with SQL access would, then verifies. */

const problemAt = (problems: readonly VerifyProblem[], kind: string, seq: number | null, recordId?: string) =>
  problems.some((p) => p.kind === kind && p.seq === seq && (recordId === undefined || p.recordId === recordId))

export function integrityContract(ctx: ContractContext): void {
  /** Six completed records written one after another: record i has links 2i+1 (open) and 2i+2 (close). */
  async function seeded(): Promise<{ storage: Storage; ids: string[] }> {
    const storage = await ctx.open()
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      const o = opening({ start: ctx.clock.now() })
      await storage.audit.begin(o)
      await storage.audit.complete(o.id, completion(new Date(o.start), 'completed', `answer ${i}`))
      ids.push(o.id)
    }
    return { storage, ids }
  }
  const id = (ids: string[], i: number) => ids[i] as string

  describe('hash chain', () => {
    it('verifies an untouched chain from the genesis', async () => {
      const { storage } = await seeded()
      const progress: number[] = []
      const report = await storage.audit.verify({ onProgress: (n) => progress.push(n) })
      expect(report).toMatchObject({ ok: true, links: 12, records: 6, problems: [], from: { seq: 0, checkpoint: false }, head: { seq: 12 } })
      expect(progress.at(-1)).toBe(12)
    })

    it('names a record whose response body was edited', async () => {
      const { storage, ids } = await seeded()
      await ctx.env.sql(`UPDATE audit_chain SET body = replace(body, 'answer 2', 'answer X') WHERE record_id = $1 AND kind = 'close'`, [id(ids, 2)])
      const report = await storage.audit.verify()
      expect(report.ok).toBe(false)
      expect(report.problems).toEqual([expect.objectContaining({ kind: 'hash_mismatch', seq: 6, recordId: id(ids, 2) })])
    })

    it('names a record whose principal was edited, in the index or in the link', async () => {
      const { storage, ids } = await seeded()
      await ctx.env.sql(`UPDATE audit_records SET principal = 'gha:evil/1' WHERE id = $1`, [id(ids, 1)])
      await ctx.env.sql(`UPDATE audit_chain SET body = replace(body, '"principal":"gha:1234567/42"', '"principal":"gha:evil/1"') WHERE record_id = $1 AND kind = 'open'`, [id(ids, 4)])
      const { problems } = await storage.audit.verify()
      expect(problemAt(problems, 'record_mismatch', 3, id(ids, 1))).toBe(true)
      expect(problemAt(problems, 'hash_mismatch', 9, id(ids, 4))).toBe(true)
    })

    it('finds a deleted link and a deleted index row', async () => {
      const { storage, ids } = await seeded()
      await ctx.env.sql('DELETE FROM audit_chain WHERE seq = 5')
      await ctx.env.sql('DELETE FROM audit_records WHERE id = $1', [id(ids, 4)])
      const { problems } = await storage.audit.verify()
      expect(problemAt(problems, 'gap', 6, id(ids, 2))).toBe(true)
      expect(problemAt(problems, 'orphan_record', 5, id(ids, 2))).toBe(true)
      expect(problemAt(problems, 'record_missing', 9, id(ids, 4))).toBe(true)
      expect(problemAt(problems, 'record_missing', 10, id(ids, 4))).toBe(true)
    })

    it('finds a forged index row and a forged link appended past the head', async () => {
      const { storage, ids } = await seeded()
      const forged = '01ARZ3NDEKTSV4RRFFQ69G5FAV'
      await ctx.env.sql(
        `INSERT INTO audit_records (id, started_at, ended_at, principal, issuer, rule, decision, outcome, skills, writer, seq_open, seq_close)
         SELECT $1, started_at, ended_at, principal, issuer, rule, decision, outcome, skills, writer, seq_open, seq_close FROM audit_records WHERE id = $2`,
        [forged, id(ids, 3)],
      )
      const head = (await ctx.env.sql('SELECT seq, hash FROM audit_chain_head'))[0] as { seq: unknown; hash: string }
      const link = { seq: Number(head.seq) + 1, kind: 'open' as const, recordId: forged, at: 1, body: '{}', prevHash: head.hash }
      await ctx.env.sql('INSERT INTO audit_chain (seq, kind, record_id, at, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        link.seq,
        link.kind,
        link.recordId,
        link.at,
        link.body,
        link.prevHash,
        linkHash(link),
      ])
      const { problems } = await storage.audit.verify()
      expect(problemAt(problems, 'orphan_record', 7, forged)).toBe(true)
      expect(problemAt(problems, 'stray_link', 13, forged)).toBe(true)
    })

    it('finds two links swapped in order', async () => {
      const { storage } = await seeded()
      await ctx.env.sql('UPDATE audit_chain SET seq = -4 WHERE seq = 4')
      await ctx.env.sql('UPDATE audit_chain SET seq = 4 WHERE seq = 5')
      await ctx.env.sql('UPDATE audit_chain SET seq = 5 WHERE seq = -4')
      const { ok, problems } = await storage.audit.verify()
      expect(ok).toBe(false)
      expect(problemAt(problems, 'hash_mismatch', 4)).toBe(true)
      expect(problemAt(problems, 'hash_mismatch', 5)).toBe(true)
      expect(problemAt(problems, 'broken_link', 4)).toBe(true)
    })

    it('finds a link rewritten with a freshly computed hash at the next link', async () => {
      const { storage, ids } = await seeded()
      const row = (await ctx.env.sql('SELECT seq, kind, record_id, at, body, prev_hash FROM audit_chain WHERE seq = 5'))[0] as Record<string, string>
      const body = String(row.body).replace('claude-sonnet-4-5', 'claude-haiku-4-5')
      const hash = linkHash({ seq: 5, kind: 'open', recordId: String(row.record_id), at: Number(row.at), body, prevHash: String(row.prev_hash) })
      await ctx.env.sql('UPDATE audit_chain SET body = $1, hash = $2 WHERE seq = 5', [body, hash])
      const { problems } = await storage.audit.verify()
      expect(problems).toEqual([expect.objectContaining({ kind: 'broken_link', seq: 6, recordId: id(ids, 2) })])
    })

    it('finds links cut from the end', async () => {
      const { storage, ids } = await seeded()
      await ctx.env.sql('DELETE FROM audit_chain WHERE seq = 12')
      const { problems } = await storage.audit.verify()
      expect(problemAt(problems, 'head_mismatch', 12)).toBe(true)
      expect(problemAt(problems, 'orphan_record', 11, id(ids, 5))).toBe(true)
    })
  })

  describe('retention', () => {
    it('prunes a prefix of closed records, never splitting one, and verifies from the checkpoint', async () => {
      const storage = await ctx.open()
      const t0 = ctx.clock.t
      const step = async (offsetMs: number, fn: () => Promise<unknown>) => {
        ctx.clock.t = t0 + offsetMs
        await fn()
      }
      const r = Array.from({ length: 6 }, (_, i) => opening({ start: new Date(t0 + [0, 60, 61, 120, 180, 181][i]! * 1000) }))
      const done = (i: number) => () => storage.audit.complete(r[i]!.id, completion(new Date(r[i]!.start)))
      await step(0, () => storage.audit.begin(r[0]!))
      await step(1_000, done(0))
      await step(60_000, () => storage.audit.begin(r[1]!))
      await step(61_000, () => storage.audit.begin(r[2]!))
      await step(62_000, done(2))
      await step(63_000, done(1)) // r1 closes after r2: it straddles r2's links
      await step(120_000, () => storage.audit.begin(r[3]!))
      await step(121_000, done(3))
      await step(180_000, () => storage.audit.begin(r[4]!)) // stays open
      await step(181_000, () => storage.audit.begin(r[5]!))
      await step(182_000, done(5))

      // r2 ended before 62.5 s, but r1 (opened before it) did not: only r0 can go.
      expect(await storage.audit.prune(new Date(t0 + 62_500))).toMatchObject({ removed: 1, checkpoint: { seq: 2 } })
      expect(await storage.audit.verify()).toMatchObject({ ok: true, from: { seq: 2, checkpoint: true }, links: 9 })

      const second = await storage.audit.prune(new Date(t0 + 130_000))
      expect(second).toMatchObject({ removed: 3, checkpoint: { seq: 8 } })
      expect(await storage.audit.get(r[1]!.id)).toBeUndefined()
      expect(await storage.audit.get(r[4]!.id)).toMatchObject({ outcome: 'open' })
      expect(await storage.audit.verify()).toMatchObject({ ok: true, from: { seq: 8, checkpoint: true }, links: 3, records: 2 })
      expect(await storage.audit.prune(new Date(t0 + 130_000))).toEqual({ removed: 0, checkpoint: second.checkpoint })

      await step(200_000, done(4))
      expect(await storage.audit.verify()).toMatchObject({ ok: true, links: 4, head: { seq: 12 } })
      expect((await storage.audit.list({ limit: 10 })).records.map((x) => x.id)).toEqual([r[5]!.id, r[4]!.id])
    })

    it('finds the cut in the links, not the index: a rewritten index removes nothing', async () => {
      const { storage } = await seeded()
      const hourAgo = new Date(ctx.clock.now().getTime() - 3_600_000)
      await ctx.env.sql(`UPDATE audit_records SET ended_at = 1, outcome = 'completed'`)
      expect(await storage.audit.prune(hourAgo)).toEqual({ removed: 0, checkpoint: null })
      await ctx.env.sql('DELETE FROM audit_records')
      expect(await storage.audit.prune(hourAgo)).toEqual({ removed: 0, checkpoint: null })
      expect(Number((await ctx.env.sql('SELECT COUNT(*) AS n FROM audit_chain'))[0]?.n)).toBe(12)
    })

    it('stops at a gap or a link that does not follow its predecessor, and removes nothing', async () => {
      const { storage } = await seeded()
      const later = new Date(ctx.clock.now().getTime() + 60_000)
      await ctx.env.sql('DELETE FROM audit_chain WHERE seq = 5')
      await expect(storage.audit.prune(later)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/audit link 6 does not follow link 4; run audit verify/) })
      await ctx.env.sql(`UPDATE audit_chain SET prev_hash = '${'0'.repeat(64)}' WHERE seq = 2`)
      await expect(storage.audit.prune(later)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/audit link 2 does not follow link 1/) })
      expect(Number((await ctx.env.sql('SELECT COUNT(*) AS n FROM audit_chain'))[0]?.n)).toBe(11)
    })

    it('still finds tampering after a prune', async () => {
      const { storage, ids } = await seeded()
      ctx.clock.advance(60_000)
      expect((await storage.audit.prune(ctx.clock.now())).removed).toBe(6)
      const more = opening({ start: ctx.clock.now() })
      await storage.audit.begin(more)
      await storage.audit.complete(more.id, completion(new Date(more.start)))
      expect((await storage.audit.verify()).ok).toBe(true)
      await ctx.env.sql('DELETE FROM audit_chain WHERE seq = 13')
      const { problems } = await storage.audit.verify()
      expect(problemAt(problems, 'gap', 14, more.id)).toBe(true)
      expect(ids).toHaveLength(6)
    })
  })
}
