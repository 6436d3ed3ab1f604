import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BatchPart, BatchWrites, TakenWrites } from '../../src/storage/batch-writes.js'
import { SqlCounterStore } from '../../src/storage/counter-store.js'
import { StorageError } from '../../src/storage/errors.js'
import { migrateSteps } from '../../src/storage/migrations.js'
import { SqliteDb } from '../../src/storage/sqlite/connection.js'
import { sqliteMigrations } from '../../src/storage/sqlite/migrations.js'

/**
 * The in-memory side of the counters (the contract suite covers the store side): how fresh the
 * totals are, and failing closed while flushes cannot commit. The shared commit is played by a
 * small stand-in that flushes only when told, and the monotonic clock is injected.
 */

let dir: string
let db: SqliteDb
let clock: number
let storeDown: boolean
const now = () => new Date(Date.parse('2030-01-01T10:00:00.000Z'))

function sharedCommit(): BatchWrites {
  const parts: BatchPart[] = []
  return {
    submit: (what, body) => db.write(what, body),
    join: (part) => void parts.push(part),
    async flush() {
      const taken = parts.map((p) => p.take()).filter((t): t is TakenWrites => t !== undefined)
      try {
        if (storeDown) throw new StorageError('unavailable', 'the store is down')
        await db.write('flushing', function* (d) {
          for (const t of taken) yield* t.body(d)
        })
      } catch (error) {
        for (const t of taken) t.settled(error as Error)
        throw error
      }
      for (const t of taken) t.settled()
    },
  }
}

const open = () => {
  const batch = sharedCommit()
  return { batch, counters: new SqlCounterStore(db, batch, now, { flushMs: 60_000, refreshMs: 500, monotonic: () => clock }) }
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-counters-'))
  db = new SqliteDb(join(dir, 'store.db'), 1_000)
  await db.write('migrating', (d) => migrateSteps(d, sqliteMigrations, 'INTEGER', 0))
  clock = 0
  storeDown = false
})
afterEach(async () => {
  await db.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('counters kept in memory', () => {
  it("sees another instance's flushed increments once its cached total is older than refreshMs", async () => {
    const [a, b] = [open(), open()]
    for (let i = 0; i < 3; i++) await a.counters.increment('k', 'minute', 1)
    await a.batch.flush()
    expect((await b.counters.get('k', 'minute')).value).toBe(3)
    await a.counters.increment('k', 'minute', 2)
    await a.batch.flush()
    // b trusts the total it read 0 ms ago, plus its own increments.
    await b.counters.increment('k', 'minute', 1)
    expect((await b.counters.get('k', 'minute')).value).toBe(4)
    clock += 500
    expect((await b.counters.get('k', 'minute')).value).toBe(6)
    // a's own flush read the sum back too: nothing counted twice.
    await b.batch.flush()
    clock += 500
    expect((await a.counters.get('k', 'minute')).value).toBe(6)
  })

  it('refuses while a flush cannot commit, keeps the increments, and flushes them once the store is back', async () => {
    const a = open()
    await a.counters.increment('k', 'day', 4)
    storeDown = true
    await expect(a.batch.flush()).rejects.toMatchObject({ code: 'unavailable' })
    // Fail closed: a limit check on these counters refuses the request.
    await expect(a.counters.increment('k', 'day', 1)).rejects.toMatchObject({ code: 'unavailable' })
    await expect(a.counters.get('k', 'day')).rejects.toMatchObject({ code: 'unavailable' })
    storeDown = false
    await a.batch.flush()
    const rows = await db.read('reading', function* () {
      return (yield { kind: 'all', sql: 'SELECT value FROM counters WHERE key = ?', params: ['k'] }) as Array<{ value: number }>
    })
    expect(rows).toEqual([{ value: 4 }])
    expect((await a.counters.increment('k', 'day', 1)).value).toBe(5)
  })
})
