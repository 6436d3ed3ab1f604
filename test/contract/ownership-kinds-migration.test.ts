import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { openStorage } from '../../src/storage/open-storage.js'
import type { Migration } from '../../src/storage/migrations.js'
import { postgresMigrations } from '../../src/storage/postgres/migrations.js'
import { sqliteMigrations } from '../../src/storage/sqlite/migrations.js'
import { createTestSchema, describePostgres, postgresTestUrl } from './postgres-env.js'

/**
 * Migration 7 widens `owned_objects.kind` to the Managed Agents kinds on a store that already holds
 * owners: every row stays, the principal index stays, the new kinds are accepted and unknown ones
 * still refused. Each store is brought to v6 by hand (the released migrations' own SQL), as an
 * upgraded installation would be.
 */
const v7 = 7
const before = (migrations: readonly Migration[]) => migrations.filter((m) => m.version < v7)
const rows = [
  ['batch', 'msgbatch_1', 'gha:1/1', 'ci', 1, null],
  ['skill_version', 'skill_1/2', 'gha:1/2', null, 2, 'admin:ops'],
  ['container', 'container_1', 'gha:1/1', 'ci', 3, null],
] as const

describe('migration 7 on SQLite', () => {
  it('rebuilds owned_objects keeping its rows and index, in the migrations\' transaction', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-v7-'))
    try {
      const file = join(dir, 'v6.db')
      const raw = new Database(file)
      raw.exec('CREATE TABLE skillgate_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
      for (const m of before(sqliteMigrations)) {
        raw.exec(m.sql)
        raw.prepare('INSERT INTO skillgate_migrations VALUES (?, ?, 0)').run(m.version, m.name)
      }
      const insert = raw.prepare('INSERT INTO owned_objects (kind, id, principal, rule, created_at, assigned_by) VALUES (?, ?, ?, ?, ?, ?)')
      for (const row of rows) insert.run(...row)
      expect(() => insert.run('agent', 'agent_1', 'p', null, 4, null)).toThrow(/CHECK/)
      raw.close()

      const storage = await openStorage(`sqlite:${file}`)
      expect(await storage.migrate()).toEqual({ from: 6, to: sqliteMigrations.length })
      expect((await storage.owners.owners('skill_version', ['skill_1/2'])).get('skill_1/2')).toMatchObject({ principal: 'gha:1/2', rule: null, assignedBy: 'admin:ops', createdAt: new Date(2) })
      await storage.owners.record([{ kind: 'agent', id: 'agent_1' }, { kind: 'memory_store', id: 'memstore_1' }], { principal: 'gha:1/3', rule: 'agents' })
      expect((await storage.owners.owners('agent', ['agent_1'])).get('agent_1')?.principal).toBe('gha:1/3')
      await storage.close()

      const after = new Database(file)
      expect(after.prepare('SELECT kind, id, principal, rule, created_at, assigned_by FROM owned_objects WHERE kind IN (?, ?, ?) ORDER BY created_at').raw().all('batch', 'skill_version', 'container')).toEqual(rows.map((r) => [...r]))
      expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'owned_objects' AND sql IS NOT NULL").pluck().all()).toEqual(['owned_objects_principal'])
      expect(after.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'owned_objects_v7'").pluck().get()).toBe(0)
      expect(() => after.prepare('INSERT INTO owned_objects VALUES (?, ?, ?, NULL, 0, NULL)').run('widget', 'w', 'p')).toThrow(/CHECK/)
      after.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

await describePostgres('migration 7 on PostgreSQL', () => {
  it('swaps the kind constraint in place, keeping rows and the index', async () => {
    const { schema, drop } = await createTestSchema()
    const raw = new pg.Client({ connectionString: postgresTestUrl, options: `-c search_path=${schema}` })
    await raw.connect()
    try {
      await raw.query('CREATE TABLE skillgate_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)')
      for (const m of before(postgresMigrations)) {
        await raw.query(m.sql)
        await raw.query('INSERT INTO skillgate_migrations VALUES ($1, $2, 0)', [m.version, m.name])
      }
      const insert = 'INSERT INTO owned_objects (kind, id, principal, rule, created_at, assigned_by) VALUES ($1, $2, $3, $4, $5, $6)'
      for (const row of rows) await raw.query(insert, [...row])
      await expect(raw.query(insert, ['agent', 'agent_1', 'p', null, 4, null])).rejects.toThrow(/owned_objects_kind_check/)

      const storage = await openStorage(postgresTestUrl, { schema, poolSize: 2 })
      try {
        expect(await storage.migrate()).toEqual({ from: 6, to: postgresMigrations.length })
        await storage.owners.record([{ kind: 'agent', id: 'agent_1' }, { kind: 'tunnel', id: 'tunnel_1' }], { principal: 'gha:1/3', rule: 'agents' })
        expect((await storage.owners.owners('tunnel', ['tunnel_1'])).get('tunnel_1')?.principal).toBe('gha:1/3')
      } finally {
        await storage.close()
      }
      const kept = await raw.query({ text: 'SELECT kind, id, principal, rule, created_at::int AS created_at, assigned_by FROM owned_objects WHERE kind IN ($1, $2, $3) ORDER BY created_at', values: ['batch', 'skill_version', 'container'], rowMode: 'array' })
      expect(kept.rows).toEqual(rows.map((r) => [...r]))
      const indexes = await raw.query("SELECT indexname FROM pg_indexes WHERE tablename = 'owned_objects' AND schemaname = $1 ORDER BY indexname", [schema])
      expect(indexes.rows.map((r: { indexname: string }) => r.indexname)).toEqual(['owned_objects_pkey', 'owned_objects_principal'])
      await expect(raw.query(insert, ['widget', 'w', 'p', null, 0, null])).rejects.toThrow(/owned_objects_kind_check/)
    } finally {
      await raw.end()
      await drop()
    }
  })
})
