import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { genesisHash, linkHash, type ChainLinkKind } from '../../src/audit/chain.js'
import { AuditWriter } from '../../src/audit/writer.js'
import { HeadSigner, latestHeadStatus, markRestore, parseTrustedKeys, signingKeyFromPem, verifyWithHeads, type AuditHeadLine, type HeadInput } from '../../src/audit/heads/index.js'
import type { Storage } from '../../src/storage/ports.js'
import type { ContractContext } from './storage-contract.js'
import { completion, opening } from './fixtures.js'

/**
 * Signed chain heads (issue #16) against each tampering someone with write access to the store can
 * do. The heads a sink received are the outside copy; `verifyWithHeads` must fail for every
 * tampering, name what failed, and pass an untouched store.
 */

const pem = (type: 'ed25519' | 'ec') =>
  generateKeyPairSync(type as 'ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
const ed = pem('ed25519')
const p256 = pem('ec')
const key = signingKeyFromPem(ed.privateKey)
const trusted = parseTrustedKeys(ed.publicKey)

export function headsContract(ctx: ContractContext): void {
  /** Six records, a head every two records (positions 4, 8, 12) after the start head at 0. */
  async function seeded(records = 6): Promise<{ storage: Storage; sink: HeadInput[]; signer: HeadSigner; writer: AuditWriter }> {
    const storage = await ctx.open()
    const sink: HeadInput[] = []
    const signer = newSigner(storage, sink)
    await signer.start()
    const writer = new AuditWriter(storage.audit, { durability: 'strict', onCommitted: (r, op) => signer.committed(r, op) })
    await write(writer, records)
    await signer.close()
    return { storage, sink, signer, writer }
  }
  function newSigner(storage: Storage, sink: HeadInput[]): HeadSigner {
    const publish = (line: AuditHeadLine) => sink.push({ source: `sink line ${sink.length + 1}`, jws: line.jws })
    return new HeadSigner({ key, store: storage.audit, everyRecords: 2, everyMs: 3_600_000, now: ctx.clock.now, publish, onError: (e) => { throw e } })
  }
  async function write(writer: AuditWriter, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      ctx.clock.advance(1_000)
      const o = opening({ start: ctx.clock.now() })
      await writer.begin(o)
      await writer.complete(o.id, completion(new Date(o.start), 'completed', `answer ${i}`))
    }
  }
  const kinds = (r: { heads: { problems: ReadonlyArray<{ kind: string }> } }) => r.heads.problems.map((p) => p.kind)
  const sql = (text: string, params?: unknown[]) => ctx.env.sql(text, params)
  async function cutNewest(after: number): Promise<void> {
    const hash = (await sql('SELECT hash FROM audit_chain WHERE seq = $1', [after]))[0]?.hash as string
    await sql('DELETE FROM audit_records WHERE seq_open > $1', [after])
    await sql('DELETE FROM audit_chain WHERE seq > $1', [after])
    await sql('UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1', [after, hash])
  }

  describe('signed chain heads', () => {
    it('passes an untouched store and names the last signed head', async () => {
      const { storage, sink } = await seeded()
      expect(sink.length).toBe(4)
      const result = await verifyWithHeads(storage.audit, sink, trusted)
      expect(result.ok).toBe(true)
      expect(result.heads).toMatchObject({ heads: 4, problems: [], warnings: [], uncovered: 0, latest: { position: 12 } })
    })

    it('tells the console whether the newest stored head still verifies', async () => {
      const { storage } = await seeded()
      expect(await latestHeadStatus(storage.audit, trusted)).toMatchObject({ head: { position: 12 }, verifies: true })
      expect(await latestHeadStatus(storage.audit, parseTrustedKeys(p256.publicKey))).toMatchObject({ verifies: false, detail: expect.stringMatching(/not among the trusted keys/) })
      await sql("UPDATE audit_chain SET hash = $1 WHERE seq = 12", ['f'.repeat(64)])
      expect(await latestHeadStatus(storage.audit, trusted)).toMatchObject({ verifies: false, detail: 'link 12 has another hash than the head signed' })
      await cutNewest(8)
      expect(await latestHeadStatus(storage.audit, trusted)).toMatchObject({ verifies: false, detail: expect.stringMatching(/store ends at position 8/) })
    })

    it('fails when the newest records are deleted and the head is rewritten', async () => {
      const { storage, sink } = await seeded()
      await cutNewest(8)
      const result = await verifyWithHeads(storage.audit, sink, trusted)
      expect(result.chain.ok).toBe(true) // the hash chain alone cannot see this
      expect(result.ok).toBe(false)
      expect(result.heads.problems[0]).toMatchObject({ kind: 'head_beyond_store', position: 12, source: 'sink line 4' })
      expect(result.heads.problems[0]?.detail).toMatch(/store ends at position 8/)
    })

    it('fails on an older backup (records and its heads table both older)', async () => {
      const { storage, sink } = await seeded()
      await cutNewest(4)
      await sql('DELETE FROM audit_heads WHERE position > 4')
      const result = await verifyWithHeads(storage.audit, sink, trusted)
      expect(kinds(result)).toEqual(['head_beyond_store', 'head_beyond_store'])
      expect(result.heads.problems.map((p) => p.position)).toEqual([8, 12])
    })

    it('fails when the oldest records are deleted behind a forged checkpoint', async () => {
      const { storage, sink } = await seeded()
      const hash = (await sql('SELECT hash FROM audit_chain WHERE seq = 4'))[0]?.hash as string
      await sql('DELETE FROM audit_records WHERE seq_open <= 4')
      await sql('DELETE FROM audit_chain WHERE seq <= 4')
      await sql('INSERT INTO audit_checkpoints (seq, hash, created_at, before_at, removed) VALUES (4, $1, 0, 0, 2)', [hash])
      const result = await verifyWithHeads(storage.audit, sink, trusted)
      expect(result.chain.ok).toBe(true) // "from checkpoint at position 4"
      expect(result.ok).toBe(false)
      expect(result.heads.problems[0]).toMatchObject({ kind: 'unsigned_checkpoint', position: 0 })
      expect(result.heads.problems.find((p) => p.position === 4)?.detail).toMatch(/unsigned checkpoint at position 4/)
    })

    it('fails on an edited, an inserted and a reordered record', async () => {
      for (const tamper of [
        "UPDATE audit_chain SET body = replace(body, 'answer 1', 'answer X') WHERE seq = 4",
        "UPDATE audit_chain SET body = (SELECT body FROM audit_chain WHERE seq = 2) WHERE seq = 6",
        'UPDATE audit_chain SET seq = seq + 100 WHERE seq IN (5, 6)',
      ]) {
        const { storage, sink } = await seeded()
        await sql(tamper)
        const result = await verifyWithHeads(storage.audit, sink, trusted)
        expect(result.ok, tamper).toBe(false)
        expect(result.chain.ok, tamper).toBe(false)
        await storage.close()
        await sql('DELETE FROM audit_chain')
        await sql('DELETE FROM audit_records')
        await sql('DELETE FROM audit_heads')
        await sql(`UPDATE audit_chain_head SET seq = 0, hash = '${'0'.repeat(64)}'`)
      }
    })

    it('fails a head signed by another key, and heads checked against the wrong key', async () => {
      const { storage, sink } = await seeded()
      const other = signingKeyFromPem(p256.privateKey)
      const foreign = new HeadSigner({ key: other, store: storage.audit, everyRecords: 1, everyMs: 1, now: ctx.clock.now, publish: () => undefined, onError: () => undefined })
      const forged = foreign.sign(await storage.audit.chainHead())
      const withForged = await verifyWithHeads(storage.audit, [...sink, { source: 'forged', jws: forged.jws }], trusted)
      expect(withForged.heads.problems).toEqual([expect.objectContaining({ kind: 'head_signature', source: 'forged' })])
      const wrongKey = await verifyWithHeads(storage.audit, sink, parseTrustedKeys(p256.publicKey))
      expect(wrongKey.ok).toBe(false)
      expect(wrongKey.heads.problems.every((p) => p.kind === 'head_signature')).toBe(true)
      // Key rotation: the old public key next to the new one verifies both generations.
      const both = parseTrustedKeys(`${ed.publicKey}\n${p256.publicKey}`)
      expect((await verifyWithHeads(storage.audit, [...sink, { source: 'rotated', jws: forged.jws }], both)).ok).toBe(true)
    })

    it('accepts retention behind a signed checkpoint, and warns about one made before signing', async () => {
      const { storage, sink, signer } = await seeded()
      const pruned = await storage.audit.prune(new Date(ctx.clock.now().getTime() - 2_500), { signCheckpoint: signer.checkpointSigner() })
      expect(pruned).toMatchObject({ removed: 3, checkpoint: { seq: 6 }, head: { position: 6, event: 'checkpoint' } })
      // The sink missed the checkpoint head (crash before publishing): the store's copy still counts.
      const result = await verifyWithHeads(storage.audit, sink, trusted)
      expect(result.heads.problems).toEqual([])
      expect(result.ok).toBe(true)

      const unsigned = await ctx.env.open({ now: ctx.clock.now })
      await unsigned.audit.prune(new Date(ctx.clock.now().getTime() + 1))
      await sql("DELETE FROM audit_heads WHERE event = 'checkpoint'")
      expect(kinds(await verifyWithHeads(storage.audit, sink, trusted))).toContain('unsigned_checkpoint')
      // With no head anywhere that covers the removed records, the checkpoint predates signing: a warning.
      await sql('DELETE FROM audit_heads')
      const beforeSigning = await verifyWithHeads(storage.audit, [], trusted)
      expect(beforeSigning.ok).toBe(true)
      expect(beforeSigning.heads.warnings[0]).toMatch(/checkpoint at position 12 is unsigned/)
    })

    it('fails a checkpoint that removed links written after a head it covers signed (times rewritten, hashes recomputed)', async () => {
      const { storage, sink, signer } = await seeded()
      const tail = opening({ start: ctx.clock.now() })
      await storage.audit.begin(tail)
      await storage.audit.complete(tail.id, completion(new Date(tail.start)))
      // Someone with the store but not the key: every link made ancient, every hash recomputed, the store's heads deleted.
      let prevHash = genesisHash
      for (const row of await sql('SELECT seq, kind, record_id, body FROM audit_chain ORDER BY seq')) {
        const hash = linkHash({ seq: Number(row.seq), kind: row.kind as ChainLinkKind, recordId: String(row.record_id), at: 1, body: String(row.body), prevHash })
        await sql('UPDATE audit_chain SET at = 1, prev_hash = $1, hash = $2 WHERE seq = $3', [prevHash, hash, Number(row.seq)])
        prevHash = hash
      }
      await sql('UPDATE audit_chain_head SET hash = $1 WHERE id = 1', [prevHash])
      await sql('DELETE FROM audit_heads')
      // The gateway's own retention (one hour here) then removes everything, every head behind it, and signs the checkpoint.
      const pruned = await storage.audit.prune(new Date(ctx.clock.now().getTime() - 3_600_000), { signCheckpoint: signer.checkpointSigner() })
      expect(pruned).toMatchObject({ removed: 7, checkpoint: { seq: 14 } })
      const result = await verifyWithHeads(storage.audit, sink, trusted)
      expect(result.ok).toBe(false)
      expect(kinds(result)).toEqual(['checkpoint_too_new', 'checkpoint_too_new', 'checkpoint_too_new', 'checkpoint_too_new'])
    })

    it('reports a declared restore as a gap, not tampering', async () => {
      const { storage, sink, signer } = await seeded()
      await cutNewest(4)
      await sql('DELETE FROM audit_heads WHERE position > 4')
      ctx.clock.advance(60_000)
      const mark = await markRestore(storage.audit, signer, 12)
      sink.push({ source: 'restore-mark', jws: mark.jws })
      // The gateway goes on writing after the restore: new links 5.. with other hashes than the lost ones.
      const restarted = newSigner(storage, sink)
      await restarted.start()
      await write(new AuditWriter(storage.audit, { durability: 'strict', onCommitted: (r, op) => restarted.committed(r, op) }), 3)
      await restarted.close()
      const result = await verifyWithHeads(storage.audit, sink, trusted)
      expect(result.heads.problems).toEqual([])
      expect(result.heads.gaps).toEqual([expect.objectContaining({ from: 5, to: 12, source: 'restore-mark' })])
      expect(result.ok).toBe(true)
      await expect(markRestore(storage.audit, signer, 3)).rejects.toThrow(/nothing is lost/)
    })

    it('covers records written after the last head before a SIGKILL with the head signed at restart', async () => {
      const storage = await ctx.open()
      const sink: HeadInput[] = []
      const signer = newSigner(storage, sink)
      await signer.start()
      // No close(): the process dies with one record past the last head (position 4).
      await write(new AuditWriter(storage.audit, { durability: 'strict', onCommitted: (r, op) => signer.committed(r, op) }), 3)
      const beforeRestart = await verifyWithHeads(storage.audit, sink, trusted)
      expect(beforeRestart).toMatchObject({ ok: true, heads: { uncovered: 2, latest: { position: 4 } } })
      const next = newSigner(await ctx.open(), sink)
      await next.start()
      await next.close()
      expect(await verifyWithHeads(storage.audit, sink, trusted)).toMatchObject({ ok: true, heads: { uncovered: 0, latest: { position: 6 } } })
    })
  })

  describe('listing signed heads', () => {
    it('pages at whole positions, so paging on with the last position misses no head', async () => {
      const storage = await ctx.open()
      const t = ctx.clock.now().getTime()
      // Two writers (or a checkpoint next to a periodic head) can sign the same position.
      for (const [i, position] of [1, 2, 2, 3, 4].entries()) {
        await storage.audit.saveHead({ position, time: t + i, writer: storage.audit.writerId, event: null, jws: `h.${i}.s` })
      }
      const seen: string[] = []
      let after: number | undefined
      for (let pages = 0; pages < 10; pages++) {
        const page = await storage.audit.listHeads(after, 2)
        if (page.length === 0) break
        seen.push(...page.map((h) => h.jws))
        after = page.at(-1)!.position
      }
      expect(seen).toEqual(['h.0.s', 'h.1.s', 'h.2.s', 'h.3.s', 'h.4.s'])
      expect((await storage.audit.listHeads(undefined, 2)).map((h) => h.position)).toEqual([1])
    })
  })

  describe('RFC 3161 timestamps of signed heads (the TSA faked: tokens are checked in test/audit)', () => {
    it('keeps a head\'s timestamp with it, added once after the head was stored', async () => {
      const storage = await ctx.open()
      const head = { position: 0, time: ctx.clock.now().getTime(), writer: storage.audit.writerId, event: null, jws: 'a.b.c' }
      await storage.audit.saveHead(head)
      expect(await storage.audit.listHeads()).toEqual([{ ...head, timestamp: null }])
      await storage.audit.saveHeadTimestamp('a.b.c', 'dG9rZW4=')
      await storage.audit.saveHeadTimestamp('a.b.c', 'b3RoZXI=') // the first token obtained stays
      await storage.audit.saveHeadTimestamp('x.y.z', 'dG9rZW4=') // no such head: nothing happens
      expect(await storage.audit.listHeads()).toEqual([{ ...head, timestamp: 'dG9rZW4=' }])
      expect(await storage.audit.latestHead()).toEqual({ ...head, timestamp: 'dG9rZW4=' })
      await storage.audit.saveHead({ ...head, jws: 'd.e.f', position: 1, timestamp: 'Zmlyc3Q=' })
      expect((await storage.audit.listHeads(0)).map((h) => h.timestamp)).toEqual(['Zmlyc3Q='])
    })

    it('timestamps every head, sends it with its token, and keeps a head the TSA failed for (the next one asks again)', async () => {
      const storage = await ctx.open()
      const lines: AuditHeadLine[] = []
      const failures: Error[] = []
      let tsaUp = true
      const signer = new HeadSigner({
        key,
        store: storage.audit,
        everyRecords: 2,
        everyMs: 3_600_000,
        now: ctx.clock.now,
        publish: (line) => lines.push(line),
        onError: (e) => {
          throw e
        },
        timestamp: async (jws) => {
          if (!tsaUp) throw new Error('TSA unreachable')
          return Buffer.from(`token for ${jws.length}`).toString('base64')
        },
        onTimestampError: (e) => failures.push(e),
      })
      await signer.start()
      const writer = new AuditWriter(storage.audit, { durability: 'strict', onCommitted: (r, op) => signer.committed(r, op) })
      await write(writer, 2)
      await signer.settled()
      tsaUp = false
      await write(writer, 2)
      await signer.settled()
      tsaUp = true
      await write(writer, 2)
      await signer.close()
      const stored = await storage.audit.listHeads()
      expect(stored.map((h) => [h.position, h.timestamp !== null])).toEqual([[0, true], [4, true], [8, false], [12, true]])
      expect(failures.map((e) => e.message)).toEqual(['TSA unreachable'])
      // Each head reached the sinks once, with the token the store kept (or none).
      expect(lines).toHaveLength(4)
      for (const line of lines) expect(line.timestamp ?? null).toBe(stored.find((h) => h.jws === line.jws)?.timestamp)
      // A checkpoint head is stored by prune's transaction, then handed over: timestamped the same way.
      const checkpoint = signer.sign(await storage.audit.chainHead(), 'checkpoint')
      await storage.audit.saveHead(checkpoint)
      signer.published(checkpoint)
      await signer.settled()
      expect(lines[lines.length - 1]).toEqual({ type: 'audit_head', jws: checkpoint.jws, timestamp: expect.any(String) })
      expect((await storage.audit.listHeads()).find((h) => h.jws === checkpoint.jws)?.timestamp).toBe(lines[lines.length - 1]?.timestamp)
    })
  })
}
