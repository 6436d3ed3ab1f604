import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openStorage } from '../../src/storage/open-storage.js'
import type { Storage } from '../../src/storage/ports.js'
import { createTestSchema, describePostgres, postgresTestUrl } from '../contract/postgres-env.js'

/** Console sessions in the shared store (issue #17 item 1), on both dialects, with an injected clock. */
const digest = (cookie: string) => createHash('sha256').update(cookie).digest('hex')
const minute = 60_000
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

type Open = (clock: { t: number }) => Promise<Storage[]>

function sessionSuite(open: Open): void {
  it('opens, reads and lists a session by the digest of its cookie, never the cookie', async () => {
    const clock = { t: Date.parse('2030-01-01T09:00:00Z') }
    const [a, b] = await open(clock)
    const created = await a!.sessions.create({ secretDigest: digest('cookie-1'), issuer: 'corp', subject: 'alice', name: 'Alice', email: 'alice@example.com', roles: ['approver'], roleBasis: 'basis-1', expiresAt: new Date(clock.t + 480 * minute) })
    expect(created).toMatchObject({ id: expect.stringMatching(/^ses_/), issuer: 'corp', subject: 'alice', roles: ['approver'], roleBasis: 'basis-1' })
    // Another replica (another connection to the same store) serves it.
    clock.t += minute
    expect(await b!.sessions.touch(digest('cookie-1'), 30 * minute)).toMatchObject({ id: created.id, lastSeenAt: new Date(clock.t) })
    expect(await b!.sessions.touch(digest('cookie-2'), 30 * minute)).toBeUndefined()
    expect((await a!.sessions.list()).map((s) => s.id)).toEqual([created.id])
    await expect(a!.sessions.create({ secretDigest: 'cookie-1', issuer: 'corp', subject: 'x', roles: [], roleBasis: 'basis-1', expiresAt: new Date(clock.t) })).rejects.toMatchObject({ code: 'invalid' })
    await expect(a!.sessions.create({ secretDigest: digest('cookie-3'), issuer: 'corp', subject: 'x', roles: [], roleBasis: '', expiresAt: new Date(clock.t) })).rejects.toMatchObject({ code: 'invalid' })
  })

  it('ends a session when idle too long or past its absolute end, and activity never revives it', async () => {
    const clock = { t: Date.parse('2030-01-01T09:00:00Z') }
    const [s] = await open(clock)
    await s!.sessions.create({ secretDigest: digest('idle'), issuer: 'corp', subject: 'bob', roles: ['auditor'], roleBasis: 'basis-1', expiresAt: new Date(clock.t + 60 * minute) })
    clock.t += 29 * minute
    expect(await s!.sessions.touch(digest('idle'), 30 * minute)).toBeDefined()
    clock.t += 30 * minute + 1
    expect(await s!.sessions.touch(digest('idle'), 30 * minute)).toBeUndefined()

    await s!.sessions.create({ secretDigest: digest('absolute'), issuer: 'corp', subject: 'bob', roles: ['auditor'], roleBasis: 'basis-1', expiresAt: new Date(clock.t + 20 * minute) })
    for (let i = 0; i < 2; i++) {
      clock.t += 10 * minute
      await s!.sessions.touch(digest('absolute'), 30 * minute)
    }
    expect(await s!.sessions.touch(digest('absolute'), 30 * minute)).toBeUndefined()
    expect(await s!.sessions.prune(30 * minute)).toBe(2)
  })

  it('signs out and revokes at once, on every replica', async () => {
    const clock = { t: Date.parse('2030-01-01T09:00:00Z') }
    const [a, b] = await open(clock)
    const one = await a!.sessions.create({ secretDigest: digest('one'), issuer: 'corp', subject: 'carol', roles: ['admin'], roleBasis: 'basis-1', expiresAt: new Date(clock.t + 60 * minute) })
    await a!.sessions.create({ secretDigest: digest('two'), issuer: 'corp', subject: 'carol', roles: ['admin'], roleBasis: 'basis-1', expiresAt: new Date(clock.t + 60 * minute) })
    expect(await a!.sessions.revokeByDigest(digest('two'))).toBe(true)
    expect(await b!.sessions.touch(digest('two'), 30 * minute)).toBeUndefined()
    expect(await b!.sessions.revoke(one.id)).toBe(true)
    expect(await a!.sessions.touch(digest('one'), 30 * minute)).toBeUndefined()
    expect(await a!.sessions.revoke(one.id)).toBe(false)
    expect(await a!.sessions.revoke('not-a-session')).toBe(false)
  })
}

describe('sessions on SQLite', () => {
  sessionSuite(async (clock) => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-sessions-'))
    const stores = [await openStorage(`sqlite:${join(dir, 's.db')}`, { now: () => new Date(clock.t) }), await openStorage(`sqlite:${join(dir, 's.db')}`, { now: () => new Date(clock.t) })]
    await stores[0]!.migrate()
    cleanups.push(async () => {
      for (const s of stores) await s.close()
      rmSync(dir, { recursive: true, force: true })
    })
    return stores
  })
})

await describePostgres('sessions on PostgreSQL', () => {
  sessionSuite(async (clock) => {
    const { schema, drop } = await createTestSchema()
    const options = { schema, now: () => new Date(clock.t) }
    const stores = [await openStorage(postgresTestUrl, options), await openStorage(postgresTestUrl, options)]
    await stores[0]!.migrate()
    cleanups.push(async () => {
      for (const s of stores) await s.close()
      await drop()
    })
    return stores
  })
})
