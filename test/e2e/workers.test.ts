import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { startMockUpstream } from '../../src/mock-upstream/index.js'
import { openStorage } from '../../src/storage/open-storage.js'

/** `serve --workers N` (SPEC §7): several processes share the port and the store. */
const cli = join(process.cwd(), 'dist', 'cli', 'main.js')
const dir = mkdtempSync(join(tmpdir(), 'skillgate-workers-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function post(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // A new connection per request, so the kernel spreads them over the workers.
    const req = request(`${url}/v1/messages`, { method: 'POST', agent: false, headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }))
  })
}

describe('serve --workers 2', () => {
  it('serves from two processes on one port, shares the audit chain, and stops on SIGTERM', async () => {
    expect(existsSync(cli), 'the build output is missing: run npm run build').toBe(true)
    const mock = await startMockUpstream()
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const configPath = join(dir, 'skillgate.yaml')
    writeFileSync(
      configPath,
      stringify({
        listen: { host: '127.0.0.1', port: 0 },
        upstream: { url: mock.url, apiKey: { value: mock.apiKey } },
        storage: { url: `sqlite:${join(dir, 'db.sqlite')}` },
        gatewayTokens: { signingKey: { fromFile: join(dir, 'gw-key.json') } },
        issuers: [{ id: 'ci', issuer: 'https://ci.test', audience: 'gw', algorithms: ['ES256'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }, direct: true }],
        rules: [{ id: 'job', issuer: 'ci', match: { subject: 'job:*' }, allow: { endpoints: ['messages'], models: ['claude-*'] } }],
      }),
    )
    const child = spawn(process.execPath, [cli, 'serve', '--config', configPath, '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let logs = ''
    child.stdout.on('data', (d: Buffer) => (logs += d.toString()))
    child.stderr.on('data', (d: Buffer) => (logs += d.toString()))
    try {
      await expect.poll(() => logs.match(/skillgate listening/g)?.length ?? 0, { timeout: 30_000 }).toBe(2)
      const urls = new Set([...logs.matchAll(/"url":"(http[^"]+)"/g)].map((m) => m[1]))
      expect(urls.size, 'both workers share one port').toBe(1)
      const url = [...urls][0]!
      const now = Math.floor(Date.now() / 1000)
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://ci.test').setAudience('gw').setSubject('job:1').setIssuedAt(now).setExpirationTime(now + 300).sign(privateKey)
      const statuses = await Promise.all(Array.from({ length: 24 }, () => post(url, token)))
      expect(statuses.every((s) => s === 200)).toBe(true)
      await expect.poll(() => logs.split('\n').filter((l) => l.includes('"msg":"request"')).length, { timeout: 5_000 }).toBe(24)
      const pids = new Set(logs.split('\n').filter((l) => l.includes('"msg":"request"')).map((l) => (JSON.parse(l) as { pid: number }).pid))
      expect(pids.size, 'requests were served by both workers').toBe(2)
    } finally {
      child.kill('SIGTERM')
      const code = await new Promise((r) => child.once('exit', r))
      expect(code).toBe(0)
      await mock.close()
    }
    const storage = await openStorage(`sqlite:${join(dir, 'db.sqlite')}`)
    try {
      const report = await storage.audit.verify()
      expect(report.ok, 'two writers, one valid chain').toBe(true)
      expect(report.records).toBe(24)
    } finally {
      await storage.close()
    }
  }, 60_000)
})
