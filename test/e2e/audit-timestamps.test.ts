import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { runAuditCommand } from '../../src/cli/commands/audit.js'
import { loadConfigText } from '../../src/config/load.js'
import { stringify } from 'yaml'
import { describeWithOpenssl, startLocalTsa, type LocalTsa } from '../audit/local-tsa.js'
import { messageBody, startStack, type Stack } from './harness.js'

/**
 * Issue #16 item 4 end to end: a gateway with `audit.signing` and `audit.timestamping` pointed at
 * a local TSA (`openssl ts -reply` behind node:http) timestamps every head; the heads endpoint and
 * the JSONL sink carry the tokens; `audit verify --tsa-cert` checks them and reports the TSA time,
 * fails another CA and a token swapped between heads; a TSA outage keeps the heads and counts.
 */
const ADMIN = 'tsa-admin-token-0123456789abcdef'

async function audit(args: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const grab = (chunk: string | Uint8Array) => ((out += String(chunk)), true)
  vi.spyOn(process.stdout, 'write').mockImplementation(grab)
  vi.spyOn(process.stderr, 'write').mockImplementation(grab)
  try {
    return { code: await runAuditCommand(args), out }
  } finally {
    vi.restoreAllMocks()
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0)
}

afterEach(() => vi.restoreAllMocks())

/** The gateway may already be closed (to flush its sink): close what is left and remove its files. */
async function finish(stack: Stack, dir: string): Promise<void> {
  await stack.gateway.close(1_000).catch(() => undefined)
  await stack.mock.close()
  rmSync(dir, { recursive: true, force: true })
}

describe('audit.timestamping configuration', () => {
  const base = { storage: { url: 'sqlite::memory:' }, upstream: { apiKey: { value: 'k' } } }
  it('needs audit.signing and an http(s) URL', () => {
    const without = loadConfigText(stringify({ ...base, audit: { timestamping: { url: 'https://tsa.example/tsr', trust: { value: 'x' } } } }), 't.yaml', {})
    expect(without.ok).toBe(false)
    expect(JSON.stringify(!without.ok && without.problems)).toContain('audit.timestamping needs audit.signing')
    const ftp = loadConfigText(stringify({ ...base, audit: { signing: { key: { value: 'x' } }, timestamping: { url: 'ftp://tsa.example/', trust: { value: 'x' } } } }), 't.yaml', {})
    expect(ftp.ok).toBe(false)
  })
})

describeWithOpenssl('RFC 3161 timestamps through a running gateway', () => {
  let tsa: LocalTsa
  beforeAll(async () => {
    tsa = await startLocalTsa()
  })
  afterAll(async () => {
    await tsa?.close()
  })

  async function gateway(trust: Record<string, string>, sinkPath: (dir: string) => string = (d) => join(d, 'audit.jsonl')): Promise<{ stack: Stack; sink: string; store: string; dir: string }> {
    let sink = ''
    const stack = await startStack({
      configure: (config) => {
        const dir = dirname(String((config.storage as { url: string }).url).slice('sqlite:'.length))
        sink = sinkPath(dir)
        config.audit = { signing: { everyRecords: 2 }, timestamping: { url: tsa.url, trust, timeout: '5s' }, sinks: [{ jsonl: { path: sink } }] }
        config.admin = { tokens: [{ secret: { value: ADMIN }, roles: ['auditor'] }] }
      },
    })
    const store = String(stack.gateway.config.storage.url)
    return { stack, sink, store, dir: dirname(store.slice('sqlite:'.length)) }
  }

  async function send(stack: Stack, n: number): Promise<void> {
    const token = await stack.mint()
    const headers = { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }
    for (let i = 0; i < n; i++) expect((await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers })).status).toBe(200)
  }

  it('timestamps every head; verify checks the tokens, reports the TSA time and fails another CA or a swapped token', async () => {
    const { stack, sink, store, dir } = await gateway({ fromFile: tsa.caPath })
    try {
      await send(stack, 4)
      // Timestamps are asked for after the head is stored: wait until the newest head has one.
      await vi.waitFor(async () => {
        const body = (await (await fetch(`${stack.url}/admin/api/audit/heads`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { heads: Array<{ jws: string; timestamp?: string }> }
        expect(body.heads.length).toBeGreaterThanOrEqual(3)
        expect(body.heads.every((h) => typeof h.timestamp === 'string')).toBe(true)
        writeFileSync(join(dir, 'heads.json'), JSON.stringify(body))
      }, { timeout: 10_000, interval: 100 })
      const jwks = await (await fetch(`${stack.url}/.well-known/skillgate-audit-keys`)).text()
      writeFileSync(join(dir, 'keys.json'), jwks)
      expect(await metric(stack.url, 'skillgate_audit_timestamp_errors_total')).toBe(0)
      // The console's status line checks the newest head's token against audit.timestamping.trust.
      const latest = (await (await fetch(`${stack.url}/admin/api/audit/heads/latest`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { verifies: boolean; timestamp?: { verifies: boolean; time: string | null; tsa: string | null } }
      expect(latest.verifies).toBe(true)
      expect(latest.timestamp).toMatchObject({ verifies: true, tsa: 'CN=skillgate test TSA' })
      expect(Math.abs(Date.parse(latest.timestamp?.time ?? '') - Date.now())).toBeLessThan(60_000)
      await stack.gateway.close(1_000)

      const lines = readFileSync(sink, 'utf8').split('\n').filter((l) => l.includes('"audit_head"')).map((l) => JSON.parse(l) as { jws: string; timestamp?: string })
      expect(lines.length).toBeGreaterThanOrEqual(3)
      expect(lines.every((l) => typeof l.timestamp === 'string')).toBe(true)

      const keys = join(dir, 'keys.json')
      let run = await audit(['verify', '--store', store, '--heads', sink, '--key', keys, '--tsa-cert', tsa.caPath])
      expect(run.out).toMatch(/✔ trusted time: \d+ head timestamp\(s\) verify; newest: position \d+ existed by 20\d\d-.*Z \(TSA CN=skillgate test TSA\)/)
      expect(run.code).toBe(0)
      const json = await audit(['verify', '--store', store, '--heads', join(dir, 'heads.json'), '--key', keys, '--tsa-cert', tsa.caPath, '--json'])
      expect(json.code).toBe(0)
      const parsed = JSON.parse(json.out.slice(json.out.indexOf('{\n'))) as { timestamps: Array<{ position: number; time: string }> }
      expect(parsed.timestamps.length).toBeGreaterThanOrEqual(3)
      // One per head, though the file and the store each carry its token.
      expect(new Set(parsed.timestamps.map((t) => t.position)).size).toBe(parsed.timestamps.length)
      for (const t of parsed.timestamps) expect(Math.abs(Date.parse(t.time) - Date.now())).toBeLessThan(60_000)

      // Without --tsa-cert the tokens are not checked, and verify says so.
      run = await audit(['verify', '--store', store, '--heads', sink, '--key', keys])
      expect(run.code).toBe(0)
      expect(run.out).toContain('not checked: pass --tsa-cert')

      // Another CA: every timestamp fails, the first named.
      run = await audit(['verify', '--store', store, '--heads', sink, '--key', keys, '--tsa-cert', tsa.otherCaPath])
      expect(run.code).toBe(1)
      expect(run.out).toMatch(/head_timestamp: head at position 0 \(.*audit\.jsonl line \d+\): its RFC 3161 timestamp does not verify: Validation of signer's certificate failed/)

      // The token of one head swapped onto another: that head fails.
      const swapped = lines.map((l, i) => JSON.stringify({ ...l, timestamp: lines[(i + 1) % lines.length]?.timestamp }))
      writeFileSync(join(dir, 'swapped.jsonl'), `${swapped.join('\n')}\n`)
      run = await audit(['verify', '--store', store, '--heads', join(dir, 'swapped.jsonl'), '--key', keys, '--tsa-cert', tsa.caPath])
      expect(run.code).toBe(1)
      expect(run.out).toContain('swapped.jsonl line 1): its RFC 3161 timestamp does not verify: the token is over other data (message imprint does not match)')
    } finally {
      await finish(stack, dir)
    }
  })

  it('keeps heads without a timestamp while the TSA is down, counts each, and warns at verify', async () => {
    tsa.mode = 'error'
    const { stack, store, dir, sink } = await gateway({ value: tsa.caPem })
    try {
      await send(stack, 4)
      await vi.waitFor(async () => expect(await metric(stack.url, 'skillgate_audit_timestamp_errors_total')).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 100 })
      expect(stack.logs.join('')).toContain('audit head timestamp failed; the head goes out without one')
      expect(stack.logs.join('')).toContain('answered HTTP 500')
      // Back up: the next head asks again and gets one.
      tsa.mode = 'ok'
      await send(stack, 2)
      const jwks = await (await fetch(`${stack.url}/.well-known/skillgate-audit-keys`)).text()
      writeFileSync(join(dir, 'keys.json'), jwks)
      await stack.gateway.close(1_000)
      const lines = readFileSync(sink, 'utf8').split('\n').filter((l) => l.includes('"audit_head"')).map((l) => JSON.parse(l) as { timestamp?: string })
      expect(lines.slice(0, 3).every((l) => l.timestamp === undefined)).toBe(true)
      expect(lines[lines.length - 1]?.timestamp).toEqual(expect.any(String))
      const run = await audit(['verify', '--store', store, '--heads', sink, '--key', join(dir, 'keys.json'), '--tsa-cert', tsa.caPath])
      expect(run.code).toBe(0)
      expect(run.out).toMatch(/warning: \d+ head\(s\) carry no RFC 3161 timestamp \(first: position 0/)
    } finally {
      tsa.mode = 'ok'
      await finish(stack, dir)
    }
  })

  it('refuses to start with a trust setting that holds no CA certificate', async () => {
    await expect(gateway({ value: 'not a certificate' })).rejects.toThrow('audit.timestamping.trust: no PEM certificate (-----BEGIN CERTIFICATE-----) found')
  })
})
