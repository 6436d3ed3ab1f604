import pg from 'pg'
import { expect, it } from 'vitest'
import { openStorage } from '../../src/storage/open-storage.js'
import { postgresSchemaVersion } from '../../src/storage/postgres/migrations.js'
import type { Storage } from '../../src/storage/ports.js'
import { opening } from './fixtures.js'
import { createTestSchema, describePostgres, postgresTestUrl } from './postgres-env.js'
import { storageContract, type ContractEnv } from './storage-contract.js'

async function makePostgresEnv(): Promise<ContractEnv> {
  const { schema, drop } = await createTestSchema()
  const opened: Storage[] = []
  const raw = new pg.Client({ connectionString: postgresTestUrl, options: `-c search_path=${schema}` })
  await raw.connect()
  return {
    async open(options = {}) {
      const storage = await openStorage(postgresTestUrl, { schema, poolSize: 4, ...options })
      opened.push(storage)
      await storage.migrate()
      return storage
    },
    async sql(text, params = []) {
      return (await raw.query(text, params)).rows as Array<Record<string, unknown>>
    },
    async dispose() {
      for (const storage of opened) await storage.close()
      await raw.end()
      await drop()
    },
  }
}

await describePostgres('postgres', () => {
  storageContract('postgres', makePostgresEnv)

  it('rejects with unavailable when the server cannot be reached, and reports unhealthy', async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const storage = await openStorage('postgres://root@127.0.0.1:1/test')
    await expect(storage.audit.begin(opening())).rejects.toMatchObject({ name: 'StorageError', code: 'unavailable' })
    await expect(storage.migrate()).rejects.toMatchObject({ code: 'unavailable' })
    expect((await storage.health()).ok).toBe(false)
    await storage.close()
  })

  it('migrates once when several instances start together', async () => {
    const { schema, drop } = await createTestSchema()
    const storages = await Promise.all(Array.from({ length: 4 }, () => openStorage(postgresTestUrl, { schema, poolSize: 2 })))
    try {
      const results = await Promise.all(storages.map((s) => s.migrate()))
      expect(results.filter((r) => r.from === 0)).toHaveLength(1)
      expect(results.every((r) => r.to === postgresSchemaVersion)).toBe(true)
      expect(await storages[0]!.health()).toEqual({ ok: true, detail: `postgres schema v${postgresSchemaVersion}` })
    } finally {
      for (const s of storages) await s.close()
      await drop()
    }
  })
})
