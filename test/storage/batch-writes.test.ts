import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { SqlAuditStore } from '../../src/storage/audit-store.js'
import type { TakenWrites } from '../../src/storage/batch-writes.js'
import { openStorage } from '../../src/storage/open-storage.js'
import type { Storage } from '../../src/storage/ports.js'
import { opening } from '../contract/fixtures.js'

let dir: string
let storage: Storage
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skillgate-batch-'))
  storage = await openStorage(`sqlite:${join(dir, 'store.db')}`, {})
  await storage.migrate()
})
afterEach(async () => {
  await storage.close()
  rmSync(dir, { recursive: true, force: true })
})

it('a part whose writes fail never fails the audit halves that share its commit; it is told, and retried', async () => {
  const outcomes: Array<string | undefined> = []
  let failing = true
  ;(storage.audit as SqlAuditStore).batch.join({
    get pending() {
      return failing
    },
    take: (): TakenWrites | undefined =>
      failing
        ? {
            // eslint-disable-next-line require-yield
            *body() {
              throw new Error('a bad write')
            },
            settled: (error) => void outcomes.push(error?.message),
          }
        : undefined,
  })
  const halves = await Promise.allSettled([storage.audit.begin(opening()), storage.audit.begin(opening())])
  expect(halves.map((h) => h.status)).toEqual(['fulfilled', 'fulfilled'])
  expect(outcomes[0]).toMatch(/a bad write/)
  failing = false
  expect((await storage.audit.verify()).ok).toBe(true)
})
