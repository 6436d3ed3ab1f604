import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { stringify } from 'yaml'
import { runConfigCommand } from '../../src/cli/commands/config.js'
import { runPolicyCommand } from '../../src/cli/commands/policy.js'
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

describe('skillgate policy', () => {
  const config = file(
    'policy.yaml',
    `upstream: { url: "https://api.anthropic.com", apiKey: { fromEnv: SURELY_UNSET_KEY } }
issuers:
  - { id: gh, issuer: "https://token.actions.githubusercontent.com", audience: aud, tenantClaims: [repository_owner_id] }
rules:
  - id: notes
    issuer: gh
    match: { subject: "repo:acme/app:*", claims: { repository_owner_id: "1" } }
    allow: { endpoints: [messages], models: ["claude-sonnet-*"] }
`,
  )
  const claims = file('claims.json', JSON.stringify({ iss: 'https://token.actions.githubusercontent.com', sub: 'repo:acme/app:ref:refs/heads/main', repository_owner_id: '1' }))

  it('explains an allow and a deny with the rule and reasons', async () => {
    const allowed = file('ok.json', JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [] }))
    let out = captureStdout()
    expect(await runPolicyCommand(['explain', '--config', config, '--claims', claims, '--request', allowed])).toBe(0)
    expect(out.text()).toContain('notes')
    vi.restoreAllMocks()
    out = captureStdout()
    const denied = file('no.json', JSON.stringify({ model: 'claude-opus-4-8', max_tokens: 5, messages: [] }))
    expect(await runPolicyCommand(['explain', '--config', config, '--claims', claims, '--request', denied, '--json'])).toBe(1)
    const explanation = JSON.parse(out.text()) as { decision: { effect: string; reasons: { code: string }[] } }
    expect(explanation.decision.effect).toBe('deny')
    expect(explanation.decision.reasons.map((r) => r.code)).toContain('model-not-granted')
  })

  it('runs the project policy vectors and reports failures with exit 1', async () => {
    const out = captureStdout()
    expect(await runPolicyCommand(['test', 'test/vectors/policy'])).toBe(0)
    expect(out.text()).toMatch(/\d+ passed, 0 failed/)
    vi.restoreAllMocks()
    captureStdout()
    const failing = file(
      'cases.yaml',
      stringify({ cases: [{ name: 'expects the wrong thing', issuer: 'gh', claims: JSON.parse(readFileSync(claims, 'utf8')), endpoint: 'messages', body: { model: 'claude-sonnet-4-6', max_tokens: 1 }, expect: { effect: 'deny' } }] }),
    )
    expect(await runPolicyCommand(['test', failing, '--config', config])).toBe(1)
  })
})
