import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { startMockUpstream } from '../../src/mock-upstream/index.js'
import { openStorage } from '../../src/storage/open-storage.js'

/**
 * SPEC §5 under a crash: the gateway process is SIGKILLed while streams are in flight. Every
 * response a client received completely must have a completed record; no record stays open once
 * the dead writer's lease has expired (they become `interrupted`); the chain still verifies.
 */
const cli = join(process.cwd(), 'dist', 'cli', 'main.js')
const dir = mkdtempSync(join(tmpdir(), 'skillgate-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('SIGKILL under load', () => {
  it('leaves completed records for completed responses and interrupted ones for the rest', async () => {
    expect(existsSync(cli), 'the build output is missing: run npm run build').toBe(true)
    const mock = await startMockUpstream({ frameDelayMs: 15 })
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const dbUrl = `sqlite:${join(dir, 'audit.db')}`
    const configPath = join(dir, 'skillgate.yaml')
    writeFileSync(
      configPath,
      stringify({
        listen: { host: '127.0.0.1', port: 0 },
        upstream: { url: mock.url, apiKey: { value: mock.apiKey } },
        storage: { url: dbUrl, writerLease: '1s' },
        gatewayTokens: { signingKey: { fromFile: join(dir, 'gw-key.json') } },
        issuers: [{ id: 'ci', issuer: 'https://ci.test', audience: 'gw', algorithms: ['ES256'], jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }, direct: true }],
        rules: [{ id: 'job', issuer: 'ci', match: { subject: 'job:*' }, allow: { endpoints: ['messages'], models: ['claude-*'] } }],
      }),
    )
    const child = spawn(process.execPath, [cli, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKILLGATE_LOG_LEVEL: 'info' } })
    let childOutput = ''
    child.stdout.on('data', (d: Buffer) => (childOutput += d.toString()))
    child.stderr.on('data', (d: Buffer) => (childOutput += d.toString()))
    try {
      const url = await listeningUrl(child)
      const now = Math.floor(Date.now() / 1000)
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://ci.test').setAudience('gw').setSubject('job:crash').setIssuedAt(now).setExpirationTime(now + 300).sign(privateKey)
      const outcomes = new Map<string, boolean>()
      const failures: string[] = []
      // Kill on evidence, not on a timer: once some streams completed while others are mid-stream
      // (a timer alone fails on a loaded machine, where nothing has finished yet).
      let streaming = 0
      let killNow: () => void = () => undefined
      const readyToKill = new Promise<void>((resolve) => (killNow = resolve))
      const check = () => {
        if ([...outcomes.values()].filter(Boolean).length >= 3 && streaming > 0) killNow()
      }
      const requests = Array.from({ length: 40 }, (_, i) =>
        (async () => {
          await new Promise((r) => setTimeout(r, i * 50))
          const res = await fetch(`${url}/v1/messages`, {
            method: 'POST',
            headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
            body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 32, stream: true, messages: [{ role: 'user', content: `hi ${i}` }] }),
          })
          const id = res.headers.get('skillgate-request-id')!
          let text = ''
          streaming++
          check()
          try {
            text = await res.text()
          } catch {
            // the connection died with the process
          } finally {
            streaming--
          }
          if (!text.includes('event: message_stop') && res.status !== 200) throw new Error(`status ${res.status}: ${text.slice(0, 200)}`)
          outcomes.set(id, text.includes('event: message_stop'))
          check()
        })().catch((error: unknown) => failures.push(`${String(error)} ${String((error as { cause?: unknown }).cause)}`)),
      )
      await Promise.race([readyToKill, new Promise((r) => setTimeout(r, 30_000))])
      child.kill('SIGKILL')
      await Promise.all(requests)
      const completedByClient = [...outcomes].filter(([, complete]) => complete).map(([id]) => id)
      const cut = [...outcomes].filter(([, complete]) => !complete).map(([id]) => id)
      expect(completedByClient.length, `some streams finished before the kill (${failures.slice(0, 2).join('; ')}) ${childOutput.slice(-1500)}`).toBeGreaterThan(0)
      expect(cut.length, 'some streams were cut by the kill').toBeGreaterThan(0)

      await new Promise((r) => setTimeout(r, 1_200)) // the dead writer's lease expires
      const storage = await openStorage(dbUrl, { writerLeaseMs: 1_000 })
      try {
        await storage.audit.markInterrupted()
        for (const id of completedByClient) expect((await storage.audit.get(id))?.outcome, id).toBe('completed')
        const { records } = await storage.audit.list({ limit: 200 })
        expect(records.filter((r) => r.outcome === 'open' || (r.outcome as string) === null)).toEqual([])
        for (const id of cut) expect(['interrupted', 'completed'], id).toContain((await storage.audit.get(id))?.outcome)
        const interrupted = records.filter((r) => r.outcome === 'interrupted').length
        expect(interrupted).toBeGreaterThan(0)
        expect((await storage.audit.verify()).ok).toBe(true)
      } finally {
        await storage.close()
      }
    } finally {
      child.kill('SIGKILL')
      await mock.close()
    }
  }, 60_000)
})

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
