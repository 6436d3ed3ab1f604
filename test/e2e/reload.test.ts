import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { startMockUpstream } from '../../src/mock-upstream/index.js'

/** Hot reload (issue "Policy and access" item 6) on a real `skillgate serve` process. */
const cli = join(process.cwd(), 'dist', 'cli', 'main.js')
const dir = mkdtempSync(join(tmpdir(), 'skillgate-reload-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('configuration reload', () => {
  it('applies a changed file and SIGHUP, and refuses an invalid file keeping the running config', async () => {
    expect(existsSync(cli), 'the build output is missing: run npm run build').toBe(true)
    const mock = await startMockUpstream()
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }
    const configPath = join(dir, 'skillgate.yaml')
    const write = (models: string[], extra = '') =>
      writeFileSync(
        configPath,
        stringify({
          listen: { host: '127.0.0.1', port: 0 },
          upstream: { url: mock.url, apiKey: { value: mock.apiKey } },
          storage: { url: `sqlite:${join(dir, 'db.sqlite')}` },
          gatewayTokens: { signingKey: { fromFile: join(dir, 'gw-key.json') } },
          issuers: [{ id: 'ci', issuer: 'https://ci.test', audience: 'gw', algorithms: ['ES256'], jwks: { keys: [jwk] }, direct: true }],
          rules: [{ id: 'job', issuer: 'ci', match: { subject: 'job:*' }, allow: { endpoints: ['messages'], models } }],
        }) + extra,
      )
    write(['claude-haiku-*'])
    const child = spawn(process.execPath, [cli, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
    let logs = ''
    child.stdout.on('data', (d: Buffer) => (logs += d.toString()))
    child.stderr.on('data', (d: Buffer) => (logs += d.toString()))
    try {
      await expect.poll(() => /"url":"(http[^"]+)"/.exec(logs)?.[1], { timeout: 20_000 }).toBeDefined()
      const url = /"url":"(http[^"]+)"/.exec(logs)![1]!
      const now = Math.floor(Date.now() / 1000)
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://ci.test').setAudience('gw').setSubject('job:1').setIssuedAt(now).setExpirationTime(now + 300).sign(privateKey)
      const call = async () =>
        (
          await fetch(`${url}/v1/messages`, {
            method: 'POST',
            headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
            body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
          })
        ).status
      expect(await call()).toBe(403)
      write(['claude-haiku-*', 'claude-sonnet-*'])
      await expect.poll(call, { timeout: 10_000, interval: 200 }).toBe(200)

      write(['claude-haiku-*'], '\nnot_a_key: true\n')
      await expect.poll(() => logs, { timeout: 10_000 }).toContain('configuration reload refused')
      expect(logs).toContain('unknown key')
      expect(await call(), 'the running configuration stays in force').toBe(200)

      write(['claude-haiku-*'])
      // Wait for the file watcher to see this write before signalling, then SIGHUP reloads again.
      await expect.poll(call, { timeout: 10_000, interval: 200 }).toBe(403)
      child.kill('SIGHUP')
      await new Promise((r) => setTimeout(r, 300))
      expect(await call()).toBe(403)
      expect(child.exitCode, 'SIGHUP does not stop the gateway').toBeNull()
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
      await mock.close()
    }
  }, 60_000)
})
