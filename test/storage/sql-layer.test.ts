import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { PgDb } from '../../src/storage/postgres/db.js'
import type { SqlDb } from '../../src/storage/sql/db.js'
import { all, exec, get, run } from '../../src/storage/sql/step.js'
import { SqliteDb } from '../../src/storage/sqlite/connection.js'
import { createTestSchema, describePostgres, postgresTestUrl } from '../contract/postgres-env.js'

/** The shared SQL layer behaves alike on both drivers: the stores above it are written once. */
function sqlLayerSuite(open: () => Promise<{ db: SqlDb; dispose: () => Promise<void> }>): void {
  let db: SqlDb
  let dispose: () => Promise<void>
  beforeAll(async () => {
    ;({ db, dispose } = await open())
    const list = db.dialect.name === 'sqlite' ? 'TEXT' : 'TEXT[]'
    await db.write('schema', () => exec(`CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT NOT NULL, tags ${list} NOT NULL)`))
  })
  afterAll(async () => dispose())

  const cols = [
    { name: 'id', type: 'text' },
    { name: 'n', type: 'int8' },
    { name: 'tags', type: 'textlist' },
  ] as const

  it('binds ? placeholders in order, inserts and updates many rows, and reads lists back', async () => {
    await db.write('insert', (d) => d.insertMany('t', cols, [['a', 1, ['x', 'y']], ['b', 2, []], ['c', 3, ['y']]]))
    await db.write('update', (d) => d.updateMany('t', cols[0], [cols[1]], [['a', 10], ['c', 30]], 't.n < 5'))
    const rows = await db.read('read', (d) => all<{ id: string; n: number; tags: unknown }>(`SELECT id, n, tags FROM t WHERE ${d.inList('id', 'text')} AND n > ? ORDER BY id`, [d.list(['a', 'b', 'c']), 1]))
    expect(rows.map((r) => [r.id, r.n, db.dialect.readList(r.tags)])).toEqual([
      ['a', 10, ['x', 'y']],
      ['b', 2, []],
      ['c', 30, ['y']],
    ])
    const tagged = await db.single('contains', 'read', (d) => all<{ id: string }>(`SELECT id FROM t WHERE ${d.listContains('tags')} ORDER BY id`, ['y']))
    expect(tagged.map((r) => r.id)).toEqual(['a', 'c'])
  })

  it('rolls a write back when its body throws after a statement', async () => {
    const failing = db.write('failing', function* () {
      yield* run('UPDATE t SET n = n + 100')
      throw new Error('planned')
    })
    await expect(failing).rejects.toMatchObject({ name: 'StorageError', code: 'unavailable' })
    expect(await db.single('read', 'read', () => get<{ n: number }>('SELECT n FROM t WHERE id = ?', ['b']))).toEqual({ n: 2 })
  })

  it('refuses a second statement in single() on every driver', async () => {
    const twice = db.single('two statements', 'write', function* () {
      yield* run('UPDATE t SET n = n + 1 WHERE id = ?', ['b'])
      return yield* get('SELECT n FROM t WHERE id = ?', ['b'])
    })
    await expect(twice).rejects.toMatchObject({ code: 'invalid' })
  })

  it('reports a failed statement as a StorageError and stays usable', async () => {
    await expect(db.read('bad', () => get('SELECT nope FROM t'))).rejects.toMatchObject({ name: 'StorageError', code: 'schema' })
    expect(await db.read('count', () => get<{ c: number }>('SELECT COUNT(*) AS c FROM t'))).toEqual({ c: 3 })
  })
}

describe('sql layer: sqlite', () => {
  sqlLayerSuite(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-sql-'))
    const db = new SqliteDb(join(dir, 'x.db'), 1_000)
    return { db, dispose: async () => (await db.close(), rmSync(dir, { recursive: true, force: true })) }
  })
})

await describePostgres('sql layer: postgres', () => {
  sqlLayerSuite(async () => {
    const { schema, drop } = await createTestSchema()
    const db = new PgDb(postgresTestUrl, { poolSize: 2, schema })
    return { db, dispose: async () => (await db.close(), await drop()) }
  })
})

await describePostgres('sql layer: postgres idle connections', () => {
  it('reports an idle pooled connection the server ends to onError and reconnects', async () => {
    const errors: string[] = []
    const db = new PgDb(postgresTestUrl, { poolSize: 1, onError: (op) => errors.push(op) })
    const killer = new pg.Client({ connectionString: postgresTestUrl })
    await killer.connect()
    try {
      const pid = (await db.single('pid', 'read', () => get<{ pid: number }>('SELECT pg_backend_pid() AS pid')))?.pid
      await killer.query('SELECT pg_terminate_backend($1)', [pid])
      await vi.waitFor(() => expect(errors).toEqual(['postgres-idle-connection']), { timeout: 5_000, interval: 20 })
      expect(await db.single('again', 'read', () => get<{ one: number }>('SELECT 1 AS one'))).toEqual({ one: 1 })
    } finally {
      await killer.end()
      await db.close()
    }
  })
})

describe('sql layer: sqlite, another connection holding the write lock', () => {
  it('waits on the event loop, keeps call order, and fails unavailable past the busy timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-sql-'))
    const holder = new SqliteDb(join(dir, 'x.db'), 1_000)
    const waiter = new SqliteDb(join(dir, 'x.db'), 1_000)
    const impatient = new SqliteDb(join(dir, 'x.db'), 30)
    try {
      await holder.write('schema', () => exec('CREATE TABLE t (n INTEGER NOT NULL)'))
      holder.db.exec('BEGIN IMMEDIATE')
      const written = waiter.write('insert', () => run('INSERT INTO t (n) VALUES (1)'))
      const read = waiter.read('count', () => get<{ c: number }>('SELECT COUNT(*) AS c FROM t'))
      // The event loop still turns while the lock is held (SQLite's busy handler would block it).
      await new Promise((resolve) => setTimeout(resolve, 20))
      await expect(impatient.write('insert', () => run('INSERT INTO t (n) VALUES (2)'))).rejects.toMatchObject({ name: 'StorageError', code: 'unavailable' })
      holder.db.exec('COMMIT')
      expect(await written).toBe(1)
      // Called after the write, run after it: it sees the row.
      expect(await read).toEqual({ c: 1 })
    } finally {
      await Promise.all([holder.close(), waiter.close(), impatient.close()])
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
