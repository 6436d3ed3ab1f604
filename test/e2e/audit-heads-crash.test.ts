import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { parseHeadsFile, parseTrustedKeys, verifyWithHeads } from '../../src/audit/heads/index.js'
import { startMockUpstream } from '../../src/mock-upstream/index.js'
import { openStorage } from '../../src/storage/open-storage.js'

/**
 * Issue #16: a gateway SIGKILLed between two signed heads leaves records no head covers yet; verify
 * with the heads still passes, and the restarted gateway's start-up head covers them.
 */
const cli = join(process.cwd(), 'dist', 'cli', 'main.js')
const dir = mkdtempSync(join(tmpdir(), 'skillgate-heads-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('SIGKILL between signed heads', () => {
  it('verifies after the kill and is fully covered after a restart', async () => {
    expect(existsSync(cli), 'the build output is missing: run npm run build').toBe(true)
    const mock = await startMockUpstream()
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const dbUrl = `sqlite:${join(dir, 'audit.db')}`
    const sink = join(dir, 'audit.jsonl')
    const configPath = join(dir, 'skillgate.yaml')
    writeFileSync(
      configPath,
      stringify({
        listen: { host: '127.0.0.1', port: 0 },
        upstream: { url: mock.url, apiKey: { value: mock.apiKey } },
        storage: { url: dbUrl, writerLease: '1s' },
        gatewayTokens: { signingKey: { fromFile: join(dir, 'gw-key.json') } },
        audit: { signing: { everyRecords: 3 }, sinks: [{ jsonl: { path: sink } }] },
        issuers: [{ id: 'ci', issuer: 'https://ci.test', audience: 'gw', algorithms: ['ES256'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }, direct: true }],
        rules: [{ id: 'job', issuer: 'ci', match: { subject: 'job:*' }, allow: { endpoints: ['messages'], models: ['claude-*'] } }],
      }),
    )
    const children: ChildProcess[] = []
    const serve = () => {
      const child = spawn(process.execPath, [cli, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
      children.push(child)
      return child
    }
    try {
      const first = serve()
      const url = await listeningUrl(first)
      const now = Math.floor(Date.now() / 1000)
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://ci.test').setAudience('gw').setSubject('job:heads').setIssuedAt(now).setExpirationTime(now + 300).sign(privateKey)
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
          body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: `hi ${i}` }] }),
        })
        expect(res.status).toBe(200)
        await res.text()
      }
      // Heads at 0 (start) and 6 (third record) are out; records 4 and 5 (links 7..10) are not covered.
      await waitFor(() => readFileSync(sink, 'utf8').split('\n').filter((l) => l.includes('"audit_head"')).length >= 2)
      first.kill('SIGKILL')
      await new Promise((resolve) => first.on('exit', resolve))

      const keys = parseTrustedKeys(readFileSync(join(dir, 'audit-signing-key.pem'), 'utf8'))
      const heads = () => parseHeadsFile(readFileSync(sink, 'utf8'), 'audit.jsonl')
      const storage = await openStorage(dbUrl)
      try {
        const afterKill = await verifyWithHeads(storage.audit, heads(), keys)
        expect(afterKill.heads.problems).toEqual([])
        expect(afterKill).toMatchObject({ ok: true, heads: { latest: { position: 6 }, uncovered: 4 } })

        const second = serve()
        await listeningUrl(second)
        const afterRestart = await verifyWithHeads(storage.audit, heads(), keys)
        expect(afterRestart).toMatchObject({ ok: true, heads: { uncovered: 0, latest: { position: 10 } } })
      } finally {
        await storage.close()
      }
    } finally {
      for (const child of children) child.kill('SIGKILL')
      await mock.close()
    }
  }, 120_000)
})

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25))
  expect(condition()).toBe(true)
}

function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${out}`)), 20_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /"url":"(http:\/\/[^"]+)"/.exec(out)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.on('exit', () => reject(new Error(`gateway exited: ${out}`)))
  })
}
