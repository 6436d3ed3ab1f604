import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { openStorage } from '../../src/storage/open-storage.js'
import { sqliteMigrations, sqliteSchemaVersion } from '../../src/storage/sqlite/migrations.js'
import type { Storage } from '../../src/storage/ports.js'
import { storageContract, type ContractEnv } from './storage-contract.js'
import { opening } from './fixtures.js'

/** `$1`-style placeholders → SQLite `?`, reordering parameters to match. */
function toSqlite(text: string, params: unknown[]): { sql: string; args: unknown[] } {
  const args: unknown[] = []
  const sql = text.replace(/\$(\d+)/g, (_, n: string) => {
    args.push(params[Number(n) - 1])
    return '?'
  })
  return { sql, args }
}

async function makeSqliteEnv(): Promise<ContractEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-sqlite-'))
  const file = join(dir, 'store.db')
  const opened: Storage[] = []
  let raw: Database.Database | undefined
  return {
    async open(options = {}) {
      const storage = await openStorage(`sqlite:${file}`, options)
      opened.push(storage)
      await storage.migrate()
      return storage
    },
    async sql(text, params = []) {
      raw ??= new Database(file)
      const { sql, args } = toSqlite(text, params)
      const statement = raw.prepare(sql)
      if (statement.reader) return statement.all(...args) as Array<Record<string, unknown>>
      statement.run(...args)
      return []
    },
    async dispose() {
      for (const storage of opened) await storage.close()
      raw?.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

storageContract('sqlite', makeSqliteEnv)

describe('sqlite adapter', () => {
  it('resolves a relative sqlite: path against cwd and creates its directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-sqlite-'))
    try {
      const storage = await openStorage('sqlite:./data/nested/skillgate.db', { cwd: dir })
      expect(await storage.migrate()).toEqual({ from: 0, to: sqliteSchemaVersion })
      expect(existsSync(join(dir, 'data/nested/skillgate.db'))).toBe(true)
      expect(await storage.health()).toEqual({ ok: true, detail: `sqlite schema v${sqliteSchemaVersion}` })
      await storage.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('upgrades a v1 store in place to the current schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-sqlite-'))
    try {
      const file = join(dir, 'old.db')
      const v1 = new Database(file)
      v1.exec(`CREATE TABLE skillgate_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
      v1.exec(sqliteMigrations[0]!.sql)
      v1.prepare('INSERT INTO skillgate_migrations VALUES (1, ?, 0)').run(sqliteMigrations[0]!.name)
      v1.close()
      const storage = await openStorage(`sqlite:${file}`)
      expect(await storage.health()).toMatchObject({ ok: false })
      const o = opening()
      expect(await storage.migrate()).toEqual({ from: 1, to: sqliteSchemaVersion })
      await storage.audit.begin(o)
      expect((await storage.reviews.list({ limit: 1 })).reviews).toEqual([])
      expect(await storage.health()).toMatchObject({ ok: true })
      await storage.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reports an unmigrated store as unhealthy and refuses audit writes with a schema error', async () => {
    const storage = await openStorage('sqlite::memory:')
    expect(await storage.health()).toMatchObject({ ok: false, detail: expect.stringContaining('run skillgate migrate') })
    await expect(storage.audit.begin(opening())).rejects.toMatchObject({ code: 'schema' })
    await storage.close()
  })

  it('runs in WAL mode with synchronous=FULL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-sqlite-'))
    try {
      const storage = await openStorage(`sqlite:${join(dir, 'x.db')}`)
      await storage.migrate()
      const raw = new Database(join(dir, 'x.db'))
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
      raw.close()
      await storage.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('rejects unknown URL schemes without echoing the URL', async () => {
    await expect(openStorage('mysql://user:hunter2@host/db')).rejects.toThrow(/^storage url must start with/)
    await expect(openStorage('mysql://user:hunter2@host/db')).rejects.not.toThrow(/hunter2/)
  })
})
