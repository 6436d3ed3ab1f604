import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../src/audit/record.js'
import type { AuditSink } from '../../src/audit/sinks/types.js'
import { AuditWriter } from '../../src/audit/writer.js'
import { StorageError } from '../../src/storage/errors.js'
import { openStorage } from '../../src/storage/open-storage.js'
import type { AuditStore, Storage } from '../../src/storage/ports.js'
import { completion, opening } from '../contract/fixtures.js'

function memorySink(): AuditSink & { records: AuditRecord[] } {
  const records: AuditRecord[] = []
  return {
    name: 'memory',
    records,
    publish: (r) => void records.push(r),
    publishHead: () => undefined,
    flush: async () => undefined,
    close: async () => undefined,
    stats: () => ({ queued: 0, delivered: records.length, dropped: 0, failed: 0, retries: 0 }),
  }
}

/** Wraps a store so tests can make it unavailable for a while. */
function flaky(store: AuditStore): AuditStore & { down: boolean } {
  const wrapped = Object.create(store) as AuditStore & { down: boolean }
  wrapped.down = false
  const guard = <T>(fn: () => Promise<T>) => (wrapped.down ? Promise.reject(new StorageError('unavailable', 'down')) : fn())
  wrapped.begin = (o) => guard(() => store.begin(o))
  wrapped.complete = (id, c) => guard(() => store.complete(id, c))
  return wrapped
}

describe('AuditWriter', () => {
  let dir: string
  let storage: Storage
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skillgate-writer-'))
    storage = await openStorage(`sqlite:${join(dir, 'audit.db')}`)
    await storage.migrate()
  })
  afterEach(async () => {
    await storage.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('strict: committed when begin resolves, whole records go to sinks with their hashes', async () => {
    const sink = memorySink()
    const writer = new AuditWriter(storage.audit, { durability: 'strict', sinks: [sink] })
    const o = opening()
    await writer.begin(o)
    expect(await storage.audit.get(o.id)).toMatchObject({ outcome: 'open' })
    await writer.complete(o.id, completion(new Date(o.start)))
    const stored = await storage.audit.get(o.id)
    expect(sink.records).toEqual([stored])
    expect(writer.stats()).toMatchObject({ durability: 'strict', committed: 2, failed: 0 })
  })

  it('strict: rejects when the store cannot commit, so the gateway can refuse the request', async () => {
    const store = flaky(storage.audit)
    const writer = new AuditWriter(store, { durability: 'strict' })
    store.down = true
    await expect(writer.begin(opening())).rejects.toMatchObject({ code: 'unavailable' })
    await storage.close()
    const closed = new AuditWriter(storage.audit, { durability: 'strict' })
    await expect(closed.begin(opening())).rejects.toMatchObject({ code: 'unavailable' })
    expect(closed.stats().failed).toBe(1)
  })

  it('strict: a completion the store could not take is committed by this writer once the store is back (issue #14)', async () => {
    const store = flaky(storage.audit)
    const sink = memorySink()
    const writer = new AuditWriter(store, { durability: 'strict', retryDelayMs: 5, sinks: [sink] })
    const o = opening()
    await writer.begin(o)
    store.down = true
    await expect(writer.complete(o.id, completion(new Date(o.start)))).rejects.toMatchObject({ code: 'unavailable' })
    // The gateway's failure path tries again with the outcome the client really saw: that one wins.
    await expect(writer.complete(o.id, completion(new Date(o.start), 'error'))).rejects.toMatchObject({ code: 'unavailable' })
    expect(writer.stats().repairing).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 30)) // still down: keeps waiting
    expect(await storage.audit.get(o.id)).toMatchObject({ outcome: 'open' })
    store.down = false
    await expect.poll(async () => (await storage.audit.get(o.id))?.outcome, { timeout: 5_000 }).toBe('error')
    expect(writer.stats().repairing).toBe(0)
    expect(sink.records.map((r) => r.id)).toEqual([o.id])
    expect((await storage.audit.verify()).ok).toBe(true)
  })

  it('strict: a denial commits both halves together', async () => {
    const writer = new AuditWriter(storage.audit, { durability: 'strict' })
    const o = opening({ decision: 'deny' })
    await writer.record(o, completion(new Date(o.start), 'denied'))
    expect(storage.audit.stats().commits).toBe(1)
    expect(await storage.audit.get(o.id)).toMatchObject({ outcome: 'denied' })
  })

  it('async: returns at once, commits in the background, and retries while the store is down', async () => {
    const store = flaky(storage.audit)
    const sink = memorySink()
    const writer = new AuditWriter(store, { durability: 'async', retryDelayMs: 5, sinks: [sink] })
    store.down = true
    const o = opening()
    await writer.begin(o)
    await writer.complete(o.id, completion(new Date(o.start)))
    expect(await writer.flush(30)).toBe(false)
    expect(await storage.audit.get(o.id)).toBeUndefined()
    store.down = false
    expect(await writer.flush()).toBe(true)
    expect(await storage.audit.get(o.id)).toMatchObject({ outcome: 'completed' })
    expect(sink.records.map((r) => r.id)).toEqual([o.id])
    expect(writer.stats()).toMatchObject({ queued: 0, committed: 2, dropped: 0, failed: 0 })
  })

  it('async: a full queue drops and counts, and drops the completion of a dropped opening', async () => {
    const store = flaky(storage.audit)
    const errors: string[] = []
    const writer = new AuditWriter(store, { durability: 'async', queueSize: 2, retryDelayMs: 5, onError: (e, c) => errors.push(`${c.op}:${e.message}`) })
    store.down = true
    const kept = [opening(), opening()]
    const dropped = opening()
    for (const o of kept) await writer.begin(o)
    await new Promise((resolve) => setTimeout(resolve, 10))
    // Halves being retried still count against the bound.
    await writer.begin(dropped)
    await writer.complete(dropped.id, completion(new Date(dropped.start)))
    expect(writer.stats().dropped).toBe(2)
    expect(errors).toEqual(['begin:audit queue full: record dropped', 'complete:audit queue full: record dropped'])
    store.down = false
    await writer.flush()
    expect((await storage.audit.list({ limit: 10 })).records.map((r) => r.id).sort()).toEqual(kept.map((o) => o.id).sort())
    expect(await storage.audit.get(dropped.id)).toBeUndefined()
  })
})
