import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { runAuditCommand } from '../../src/cli/commands/audit.js'
import { messageBody, startStack } from './harness.js'

/**
 * Issue #16 end to end on SQLite: a gateway with `audit.signing` (key generated on first start)
 * signs heads into its JSONL sink and the store, publishes its key, and `audit verify --heads
 * --key` passes the untouched store, fails a cut-off one and passes it again once a restore is
 * declared.
 */
const ADMIN = 'heads-admin-token-0123456789abcdef'

function capture(): { text: () => string } {
  let out = ''
  const grab = (chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  }
  vi.spyOn(process.stdout, 'write').mockImplementation(grab)
  vi.spyOn(process.stderr, 'write').mockImplementation(grab)
  return { text: () => out }
}

async function audit(args: string[]): Promise<{ code: number; out: string }> {
  const out = capture()
  try {
    return { code: await runAuditCommand(args), out: out.text() }
  } finally {
    vi.restoreAllMocks()
  }
}

afterEach(() => vi.restoreAllMocks())

describe('signed audit chain heads through a running gateway', () => {
  it('signs, publishes and verifies heads; catches a cut-off store; accepts a declared restore', async () => {
    let sinkPath = ''
    const stack = await startStack({
      configure: (config) => {
        const db = String((config.storage as { url: string }).url).slice('sqlite:'.length)
        sinkPath = join(dirname(db), 'audit.jsonl')
        config.audit = { signing: { everyRecords: 2 }, sinks: [{ jsonl: { path: sinkPath } }] }
        config.admin = { tokens: [{ secret: { value: ADMIN }, roles: ['auditor'] }] }
      },
    })
    const store = String((stack.gateway.config.storage as { url: string }).url)
    const dir = dirname(store.slice('sqlite:'.length))
    try {
      const token = await stack.mint()
      const headers = { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }
      for (let i = 0; i < 5; i++) expect((await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers })).status).toBe(200)

      const keyFile = join(dir, 'audit-signing-key.pem')
      expect(statSync(keyFile).mode & 0o777).toBe(0o600)
      expect(stack.logs.join('')).toContain('generated an Ed25519 audit signing key')
      const jwks = (await (await fetch(`${stack.url}/.well-known/skillgate-audit-keys`)).json()) as { keys: Array<{ alg: string; kid: string; d?: string }> }
      expect(jwks.keys).toEqual([expect.objectContaining({ alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519' })])
      expect(jwks.keys[0]?.d).toBeUndefined()
      writeFileSync(join(dir, 'keys.json'), JSON.stringify(jwks))

      const listed = await fetch(`${stack.url}/admin/api/audit/heads`, { headers: { authorization: `Bearer ${ADMIN}` } })
      expect(listed.status).toBe(200)
      const body = (await listed.json()) as { heads: Array<{ jws: string }> }
      // The start head (position 0), then one every two records: 4 and 8.
      expect(body.heads.map((h) => JSON.parse(Buffer.from(h.jws.split('.')[1]!, 'base64url').toString()).position)).toEqual([0, 4, 8])
      writeFileSync(join(dir, 'heads.json'), JSON.stringify(body))
      const after = (await (await fetch(`${stack.url}/admin/api/audit/heads?after=4`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { heads: unknown[] }
      expect(after.heads).toHaveLength(1)
      const latest = await (await fetch(`${stack.url}/admin/api/audit/heads/latest`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()
      expect(latest).toMatchObject({ head: { position: 8, event: null }, verifies: true })
      await stack.gateway.close(1_000)
    } finally {
      await stack.mock.close()
    }
    try {
      const sinkHeads = readFileSync(sinkPath, 'utf8').split('\n').filter((l) => l.includes('"audit_head"'))
      expect(sinkHeads).toHaveLength(4) // and the shutdown head at 10

      let run = await audit(['verify', '--store', store, '--heads', sinkPath, '--key', join(dir, 'keys.json')])
      expect(run.code).toBe(0)
      expect(run.out).toContain('✔ audit chain intact: 5 record(s)')
      expect(run.out).toContain('last signed head at position 10')
      expect((await audit(['verify', '--store', store, '--heads', join(dir, 'heads.json'), '--key', join(dir, 'audit-signing-key.pem')])).code).toBe(0)

      // Cut the two newest records off and point the head at the last kept link.
      const db = new Database(store.slice('sqlite:'.length))
      const kept = db.prepare('SELECT hash FROM audit_chain WHERE seq = 6').get() as { hash: string }
      db.prepare('DELETE FROM audit_records WHERE seq_open > 6').run()
      db.prepare('DELETE FROM audit_chain WHERE seq > 6').run()
      db.prepare('UPDATE audit_chain_head SET seq = 6, hash = ? WHERE id = 1').run(kept.hash)
      db.close()
      expect((await audit(['verify', '--store', store])).code).toBe(0) // the old blind spot
      run = await audit(['verify', '--store', store, '--heads', sinkPath, '--key', join(dir, 'keys.json')])
      expect(run.code).toBe(1)
      expect(run.out).toMatch(/✖ signed heads: 2 problem\(s\); first: head at position 8 \(.*audit\.jsonl line \d+/)
      expect(run.out).toContain('the store ends at position 6')

      // Declared as a restore, it passes with the gap reported.
      const mark = await audit(['restore-mark', '--store', store, '--key', join(dir, 'audit-signing-key.pem'), '--heads', sinkPath])
      expect(mark.code).toBe(0)
      expect(mark.out).toMatch(/this excuses 2 signed head\(s\) beyond the restored end, signed \S+ to \S+: if any was signed after your backup/)
      writeFileSync(sinkPath, `${mark.out.split('\n').find((l) => l.startsWith('{'))}\n`, { flag: 'a' })
      run = await audit(['verify', '--store', store, '--heads', sinkPath, '--key', join(dir, 'keys.json')])
      expect(run.out).toContain('declared gap: positions 7..10 lost in a restore')
      expect(run.code).toBe(0)

      // A chain that does not verify by itself is never papered over with a mark.
      const broken = new Database(store.slice('sqlite:'.length))
      broken.prepare(`UPDATE audit_chain SET body = replace(body, '"v":', '"v" :') WHERE seq = 3`).run()
      broken.close()
      const refused = await audit(['restore-mark', '--store', store, '--key', join(dir, 'audit-signing-key.pem')])
      expect(refused.code).toBe(1)
      expect(refused.out).toMatch(/✖ audit chain broken: \d+ problem\(s\): no restore mark signed/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
