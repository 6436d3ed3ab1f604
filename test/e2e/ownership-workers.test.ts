import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { startMockUpstream } from '../../src/mock-upstream/index.js'

/**
 * `serve --workers 2` on SQLite: a container created through one worker is reused by its owner
 * through either worker and refused to another principal by both (ownership is in the store).
 */
const cli = join(process.cwd(), 'dist', 'cli', 'main.js')
const dir = mkdtempSync(join(tmpdir(), 'skillgate-owner-workers-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A new connection per request, so the kernel spreads them over the workers. */
function post(url: string, token: string, body: object): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/messages`, { method: 'POST', agent: false, headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

describe('ownership under serve --workers 2', () => {
  it('reuses a container for its owner on every worker and refuses it to another principal on every worker', async () => {
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
        rules: [{ id: 'job', issuer: 'ci', match: { subject: 'job:*' }, allow: { endpoints: ['messages'], models: ['claude-*'], tools: ['code_execution_*'] } }],
      }),
    )
    const child = spawn(process.execPath, [cli, 'serve', '--config', configPath, '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let logs = ''
    child.stdout.on('data', (d: Buffer) => (logs += d.toString()))
    child.stderr.on('data', (d: Buffer) => (logs += d.toString()))
    try {
      await expect.poll(() => logs.match(/skillgate listening/g)?.length ?? 0, { timeout: 30_000 }).toBe(2)
      const url = /"url":"(http[^"]+)"/.exec(logs)?.[1] ?? ''
      const now = Math.floor(Date.now() / 1000)
      const token = (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://ci.test').setAudience('gw').setSubject(sub).setIssuedAt(now).setExpirationTime(now + 300).sign(privateKey)
      const [owner, other] = [await token('job:owner'), await token('job:other')]
      const body = (container?: string) => ({ model: 'claude-sonnet-4-6', max_tokens: 16, tools: [{ type: 'code_execution_20250825', name: 'code_execution' }], messages: [{ role: 'user', content: 'x' }], ...(container ? { container } : {}) })
      const first = await post(url, owner, body())
      const container = /"(container_[A-Za-z0-9]+)"/.exec(first.text)?.[1] ?? ''
      expect([first.status, container.length > 0]).toEqual([200, true])
      const mine = await Promise.all(Array.from({ length: 20 }, () => post(url, owner, body(container))))
      const theirs = await Promise.all(Array.from({ length: 20 }, () => post(url, other, body(container))))
      expect(mine.map((r) => r.status)).toEqual(Array(20).fill(200))
      expect(theirs.map((r) => r.status)).toEqual(Array(20).fill(404))
      await expect.poll(() => logs.split('\n').filter((l) => l.includes('"msg":"request"')).length, { timeout: 5_000 }).toBe(41)
      const pidsOf = (status: number) => new Set(logs.split('\n').filter((l) => l.includes('"msg":"request"') && l.includes(`"status":${status}`)).map((l) => (JSON.parse(l) as { pid: number }).pid))
      expect(pidsOf(200).size, 'the owner was served by both workers').toBe(2)
      expect(pidsOf(404).size, 'the other principal was refused by both workers').toBe(2)
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
      await mock.close()
    }
  }, 60_000)
})
