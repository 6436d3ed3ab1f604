import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { runConfigCommand } from '../../src/cli/commands/config.js'
import { runTokenCommand } from '../../src/cli/commands/token.js'
import { UsageError } from '../../src/cli/usage-error.js'

function captureStdout(): { text: () => string } {
  let out = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  return { text: () => out }
}

afterEach(() => {
  vi.restoreAllMocks()
})

const dir = mkdtempSync(join(tmpdir(), 'skillgate-cli-'))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('skillgate config validate', () => {
  it('exits 1 and lists every problem of a broken file', async () => {
    const out = captureStdout()
    const path = file('broken.yaml', 'listen: { prot: 1 }\nupstream: { url: "ftp://x", timeouts: { idle: forever } }\nrules: [{ id: a, issuer: none }]\n')
    expect(await runConfigCommand(['validate', '--config', path])).toBe(1)
    expect(out.text()).toContain('7 problems')
    expect(out.text()).toContain('unknown issuer "none" → at rules[0].issuer (line 3)')
    expect(out.text()).toContain('set exactly one upstream credential: apiKey or federation → at upstream (line 2)')
    expect(out.text()).toContain('unknown key "prot" → at listen.prot (line 1)')
    expect(out.text()).toContain('at upstream.timeouts.idle (line 2)')
  })

  it('prints machine-readable problems with --json', async () => {
    const out = captureStdout()
    const path = file('bad.yaml', 'listen: { prot: 1 }\n')
    expect(await runConfigCommand(['validate', '--config', path, '--json'])).toBe(1)
    const report = JSON.parse(out.text()) as { valid: boolean; problems: { path: string; line: number }[] }
    expect(report.valid).toBe(false)
    expect(report.problems).toContainEqual(expect.objectContaining({ path: 'listen.prot', line: 1 }))
  })

  it('exits 0 on a valid file', async () => {
    const out = captureStdout()
    const path = file('ok.yaml', 'upstream: { url: "http://127.0.0.1:9", apiKey: { value: k } }\n')
    expect(await runConfigCommand(['validate', '--config', path])).toBe(0)
    expect(out.text()).toContain('is valid')
  })

  it('treats unknown flags and commands as usage errors (exit 2)', async () => {
    await expect(runConfigCommand(['validate', '--nope'])).rejects.toBeInstanceOf(UsageError)
    await expect(runConfigCommand(['frobnicate'])).rejects.toBeInstanceOf(UsageError)
  })
})

describe('skillgate token mint', () => {
  it('mints from a loopback dev issuer and refuses any other issuer', async () => {
    const jwks = join(dir, 'dev-jwks.json')
    const path = file(
      'dev.yaml',
      `upstream: { url: "https://api.anthropic.com", apiKey: { fromEnv: SURELY_UNSET_KEY } }
issuers:
  - { id: dev, issuer: "http://127.0.0.1:8080/dev", audience: aud, algorithms: [ES256], jwks: { file: "${jwks}" } }
  - { id: gh, issuer: "https://token.actions.githubusercontent.com", audience: aud }
`,
    )
    const out = captureStdout()
    expect(await runTokenCommand(['mint', '--config', path, '--issuer', 'dev', '--sub', 'dev:me', '--claim', 'team=docs', '--json'])).toBe(0)
    const { token } = JSON.parse(out.text()) as { token: string }
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
    expect(payload).toMatchObject({ iss: 'http://127.0.0.1:8080/dev', aud: 'aud', sub: 'dev:me', team: 'docs' })
    await expect(runTokenCommand(['mint', '--config', path, '--issuer', 'gh', '--sub', 'x'])).rejects.toThrow(/not a local development issuer/)
    await expect(runTokenCommand(['mint', '--config', path, '--issuer', 'dev', '--sub', 'x', '--ttl', '2h'])).rejects.toThrow(/maxLifetime/)
  })
})
