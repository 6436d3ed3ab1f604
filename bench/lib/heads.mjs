/**
 * The cost of signed audit chain heads (`audit.signing`, docs/audit.md §6a): CPU per head (sign +
 * store in SQLite, measured with process.cpuUsage, so an fsync's wait is not counted as work) and
 * per request at the default `everyRecords` of 1 000.
 */
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signHead, signingKeyFromPem } from '../../dist/audit/heads/jws.js'
import { openStorage } from '../../dist/storage/open-storage.js'

export const EVERY_RECORDS = 1_000

export async function measureHeadCosts({ quick = false } = {}) {
  const heads = quick ? 200 : 1_000
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-bench-heads-'))
  const storage = await openStorage(`sqlite:${join(dir, 'heads.db')}`)
  try {
    await storage.migrate()
    const result = {}
    for (const type of ['ed25519', 'ec']) {
      const pem = generateKeyPairSync(type, { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
      const key = signingKeyFromPem(pem)
      const payload = (i) => ({ type: 'skillgate.audit.head', v: 1, position: i, hash: 'a'.repeat(64), time: new Date().toISOString(), writer: storage.audit.writerId })
      for (let i = 0; i < 20; i++) await storage.audit.saveHead({ position: i, time: Date.now(), writer: 'warm', event: null, jws: signHead(key, payload(i)) })
      const before = process.cpuUsage()
      for (let i = 0; i < heads; i++) {
        const jws = signHead(key, payload(i))
        await storage.audit.saveHead({ position: i, time: Date.now(), writer: storage.audit.writerId, event: null, jws })
      }
      const used = process.cpuUsage(before)
      result[key.alg] = (used.user + used.system) / heads
    }
    return { cpuUsPerHead: result, everyRecords: EVERY_RECORDS, heads }
  } finally {
    await storage.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
