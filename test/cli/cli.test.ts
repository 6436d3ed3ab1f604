import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { stringify } from 'yaml'
import { runConfigCommand } from '../../src/cli/commands/config.js'
import { runMigrate } from '../../src/cli/commands/migrate.js'
import { consoleHint } from '../../src/cli/console-hint.js'
import { loadStartConfig } from '../../src/cli/commands/serve.js'
import { bundledConfigPath, loadConfigFile } from '../../src/config/load.js'
import { runPolicyCommand } from '../../src/cli/commands/policy.js'
import { runReviewsCommand } from '../../src/cli/commands/reviews.js'
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

describe('skillgate migrate', () => {
  it('creates the schema, then finds it current; --json says the store and both versions', async () => {
    const store = `sqlite:${join(dir, 'migrate.db')}`
    const first = captureStdout()
    expect(await runMigrate(['--store', store, '--json'])).toBe(0)
    const created = JSON.parse(first.text()) as { store: string; from: number; to: number }
    expect(created).toMatchObject({ store: 'sqlite', from: 0 })
    expect(created.to).toBeGreaterThan(0)
    vi.restoreAllMocks()
    const again = captureStdout()
    expect(await runMigrate(['--store', store])).toBe(0)
    expect(again.text()).toBe(`schema is current (version ${created.to})\n`)
  })
})

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

  it('reports a missing list key and an unknown issuer in one run, with lines; --offline reads no secret', async () => {
    const path = file(
      'two.yaml',
      `upstream: { url: "http://127.0.0.1:9", apiKey: { fromEnv: SURELY_UNSET_KEY } }
issuers:
  - { id: ci, issuer: "https://ci.example", audience: gw, jwks: { keys: [{ kty: EC }] } }
  - { id: two, audience: gw, jwks: { keys: [{ kty: EC }] } }
rules:
  - { id: a, issuer: nowhere, match: { subject: "repo:acme/*" }, allow: { endpoints: [messages], models: ["claude-*"] } }
`,
    )
    let out = captureStdout()
    expect(await runConfigCommand(['validate', '--config', path])).toBe(1)
    expect(out.text()).toContain('3 problems')
    expect(out.text()).toContain('the required key "issuer" is missing (expected a string) → at issuers[1].issuer (line 4)')
    expect(out.text()).toContain('unknown issuer "nowhere" → at rules[0].issuer (line 6)')
    expect(out.text()).toContain('SURELY_UNSET_KEY is not set')
    vi.restoreAllMocks()
    out = captureStdout()
    expect(await runConfigCommand(['validate', '--config', path, '--offline'])).toBe(1)
    expect(out.text()).toContain('2 problems')
    expect(out.text()).not.toContain('SURELY_UNSET_KEY')
  })

  it('prints help, not the schema, for config schema --help', async () => {
    const out = captureStdout()
    expect(await runConfigCommand(['schema', '--help'])).toBe(0)
    expect(out.text()).toMatch(/^Usage:/)
    expect(out.text()).not.toContain('"$schema"')
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

  it('takes the console\'s request shape in --request, and still a bare body with a warning', async () => {
    const envelope = file('envelope.json', JSON.stringify({ method: 'POST', path: '/v1/messages', body: { model: 'claude-sonnet-4-6', max_tokens: 5, messages: [] } }))
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    let out = captureStdout()
    expect(await runPolicyCommand(['explain', '--config', config, '--claims', claims, '--request', envelope])).toBe(0)
    expect(out.text()).toMatch(/^decision: allow \(rule notes\)/)
    expect(err).not.toHaveBeenCalled()
    vi.restoreAllMocks()
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    out = captureStdout()
    const bare = file('bare.json', JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [] }))
    expect(await runPolicyCommand(['explain', '--config', config, '--claims', claims, '--request', bare])).toBe(0)
    expect(String(warn.mock.calls[0]?.[0])).toContain('read as the body of POST /v1/messages')
    const files = file('files.json', JSON.stringify({ method: 'GET', path: '/v1/files' }))
    expect(await runPolicyCommand(['explain', '--config', config, '--claims', claims, '--request', files])).toBe(1)
  })

  it('runs the shipped policy-tests/ example against the bundled configuration with a bare "policy test"', async () => {
    const out = captureStdout()
    expect(await runPolicyCommand(['test'])).toBe(0)
    expect(out.text()).toMatch(/policy-tests\/dev-jobs\.yaml/)
    expect(out.text()).toMatch(/[1-9]\d* passed, 0 failed\n$/)
  })

  it('names the missing folder and the shipped example when ./policy-tests is absent', async () => {
    const cwd = process.cwd()
    process.chdir(dir)
    try {
      await expect(runPolicyCommand(['test'])).rejects.toThrow(/no \.\/policy-tests folder here.*policy-tests/)
    } finally {
      process.chdir(cwd)
    }
  })

  it('reports test-file problems with their line, and accepts the old "effect:" with a deprecation warning', async () => {
    const caseOf = (expectation: string) => `cases:
  - name: one
    issuer: gh
    claims: { sub: "repo:acme/app:ref:refs/heads/main", repository_owner_id: "1" }
    endpoint: messages
    body: { model: claude-sonnet-4-6 }
    expect: ${expectation}
`
    captureStdout()
    await expect(runPolicyCommand(['test', file('bad-case.yaml', caseOf('{ decision: perhaps }')), '--config', config])).rejects.toThrow(/line 7: cases\.0\.expect\.decision: /)
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    expect(await runPolicyCommand(['test', file('old-case.yaml', caseOf('{ effect: allow }')), '--config', config])).toBe(0)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/line 7: cases\.0\.expect\.effect: "effect" is deprecated, write "decision: allow"/)
  })

  it('runs the project policy vectors and reports failures with exit 1', async () => {
    const out = captureStdout()
    expect(await runPolicyCommand(['test', 'test/vectors/policy'])).toBe(0)
    expect(out.text()).toMatch(/\d+ passed, 0 failed/)
    vi.restoreAllMocks()
    captureStdout()
    const failing = file(
      'cases.yaml',
      stringify({ cases: [{ name: 'expects the wrong thing', issuer: 'gh', claims: JSON.parse(readFileSync(claims, 'utf8')), endpoint: 'messages', body: { model: 'claude-sonnet-4-6', max_tokens: 1 }, expect: { decision: 'deny' } }] }),
    )
    expect(await runPolicyCommand(['test', failing, '--config', config])).toBe(1)
  })
})

describe('skillgate serve: the console hint', () => {
  it('says where the console is and how to sign in, naming the variable and never a token', () => {
    const hint = consoleHint({ admin: { tokens: [{ secret: { fromEnv: 'SKILLGATE_ADMIN_TOKEN' }, roles: ['admin', 'approver'] }], issuers: [] } }, 'http://127.0.0.1:8080')
    expect(hint).toContain('console at http://127.0.0.1:8080/ui/')
    expect(hint).toContain('an admin token (admin, approver) from $SKILLGATE_ADMIN_TOKEN')
    const inline = consoleHint({ admin: { tokens: [{ secret: { value: 'do-not-print-me' }, roles: ['auditor'] }], issuers: [] } }, 'http://h:1')
    expect(inline).not.toContain('do-not-print-me')
  })

  it('says that nobody can sign in, and how to fix it, without an admin section', () => {
    expect(consoleHint({ admin: { tokens: [], issuers: [] } }, 'http://127.0.0.1:8080')).toMatch(/nobody can sign in: no admin token or sign-in issuer is configured[\s\S]*export SKILLGATE_ADMIN_TOKEN=/)
  })

  it('the bundled example has an admin section driven by SKILLGATE_ADMIN_TOKEN', () => {
    const result = loadConfigFile(bundledConfigPath, { ANTHROPIC_API_KEY: 'k', SKILLGATE_ADMIN_TOKEN: 't' })
    expect(result.ok && result.config.admin.tokens[0]?.secret).toEqual({ fromEnv: 'SKILLGATE_ADMIN_TOKEN' })
    const missing = loadConfigFile(bundledConfigPath, { ANTHROPIC_API_KEY: 'k' })
    expect(missing.ok || missing.problems.map((p) => p.message)).toEqual(['environment variable SKILLGATE_ADMIN_TOKEN is not set'])
  })

  it('npm start on the bundled example still starts without SKILLGATE_ADMIN_TOKEN, with no admin section', () => {
    const started = loadStartConfig(bundledConfigPath, { ANTHROPIC_API_KEY: 'k' })
    expect(started.ok && started.config.admin.tokens).toEqual([])
    const withToken = loadStartConfig(bundledConfigPath, { ANTHROPIC_API_KEY: 'k', SKILLGATE_ADMIN_TOKEN: 't' })
    expect(withToken.ok && withToken.config.admin.tokens).toHaveLength(1)
  })
})

describe('skillgate reviews list --state', () => {
  it('refuses an unknown state as a usage error before asking the gateway', async () => {
    vi.stubEnv('SKILLGATE_URL', 'http://127.0.0.1:9')
    vi.stubEnv('SKILLGATE_ADMIN_TOKEN', 't')
    try {
      await expect(runReviewsCommand(['list', '--state', 'bogus'])).rejects.toThrow(/--state must be one of pending, approved, denied, expired or all/)
    } finally {
      vi.unstubAllEnvs()
    }
  })
})
