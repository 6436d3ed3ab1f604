import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { messageBody, startStack } from './harness.js'

/** Issue #11 part 4: failures no client sees are logged and counted (docs/metrics.md). */
const dir = mkdtempSync(join(tmpdir(), 'skillgate-bg-errors-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The value of one sample line of /metrics, e.g. `skillgate_secret_file_errors_total`. */
const sample = async (url: string, series: string): Promise<number | undefined> => {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('background errors', () => {
  it('counts and logs a rotated key file that cannot be used, and keeps the previous key', async () => {
    const keyFile = join(dir, 'anthropic-key')
    writeFileSync(keyFile, 'sk-ant-old-revoked-key\n')
    const gw = await startStack({ configure: (c) => ((c.upstream as Record<string, unknown>).apiKey = { fromFile: keyFile }) })
    try {
      const call = async () => (await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': await gw.mint(), 'anthropic-version': '2023-06-01' } })).status
      writeFileSync(keyFile, `${gw.mock.apiKey}\n`)
      await expect.poll(call, { timeout: 10_000 }).toBe(200)
      expect(await sample(gw.url, 'skillgate_secret_file_errors_total')).toBe(0)

      writeFileSync(keyFile, '') // a rotation that went wrong: an empty file
      await expect.poll(() => sample(gw.url, 'skillgate_secret_file_errors_total'), { timeout: 10_000 }).toBe(1)
      expect(await call(), 'the last good key stays in use').toBe(200)
      unlinkSync(keyFile)
      await expect.poll(() => sample(gw.url, 'skillgate_secret_file_errors_total'), { timeout: 10_000 }).toBe(2)
      expect(await call()).toBe(200)

      const lines = gw.logs.filter((l) => l.includes('secret file re-read failed'))
      expect(lines).toHaveLength(2)
      expect(lines[1]).toContain('ENOENT')
      expect(lines.join(''), 'never the key itself').not.toContain(gw.mock.apiKey)
      expect(lines.every((l) => JSON.parse(l).level === 50)).toBe(true)
    } finally {
      await gw.close()
    }
  }, 30_000)

  it('counts a failing audit sink by sink type', async () => {
    // A jsonl sink whose path is a directory: the file cannot be opened; the store still has the record.
    const gw = await startStack({ configure: (c) => (c.audit = { sinks: [{ jsonl: { path: dir } }] }) })
    try {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        body: messageBody(),
        headers: { 'x-api-key': await gw.mint(), 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      })
      expect(res.status).toBe(200)
      await expect.poll(() => sample(gw.url, 'skillgate_audit_sink_errors_total{sink="jsonl"}'), { timeout: 10_000 }).toBeGreaterThanOrEqual(1)
      expect(gw.logs.some((l) => l.includes('audit sink delivery failed'))).toBe(true)
    } finally {
      await gw.close()
    }
  }, 30_000)
})
