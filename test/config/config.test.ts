import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { configJsonSchema } from '../../src/cli/commands/config.js'
import { bundledConfigPath, formatProblems, loadConfigFile, loadConfigText } from '../../src/config/load.js'
import { renderConfigReference } from '../../src/config/reference-doc.js'
import { Secret } from '../../src/config/secret-source.js'

const env = { ANTHROPIC_API_KEY: 'sk-ant-test-key', SKILLGATE_ADMIN_TOKEN: 'admin-token-for-tests' }

const minimal = `
upstream: { url: "http://127.0.0.1:9", apiKey: { value: k } }
issuers:
  - { id: ci, issuer: "https://ci.example", audience: gw, jwks: { keys: [{ kty: EC }] } }
rules:
  - id: job
    issuer: ci
    match: { subject: "repo:acme/*" }
    allow: { endpoints: [messages], models: ["claude-*"] }
`

describe('configuration', () => {
  it('accepts the bundled example and fills defaults', () => {
    const result = loadConfigFile(bundledConfigPath, env)
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.config.listen.maxBody).toBe(32_000_000)
    expect(result.config.upstream.timeouts).toEqual({ connect: 10_000, firstByte: 600_000, idle: 300_000 })
    expect(result.config.secrets.upstreamApiKey?.reveal()).toBe('sk-ant-test-key')
  })

  it('reports every problem of a broken file at once, with paths, lines and hints', () => {
    const broken = `
listen: { port: 99999, hots: x }
upstream: { url: "http://api.example.com/v1", apiKey: { fromEnv: NOT_SET_ANYWHERE }, timeouts: { connect: 10 } }
issuers:
  - { id: gh, issuer: "https://token.actions.githubusercontent.com", audience: gw, algorithms: [HS256], tenantClaims: [repository_owner_id] }
  - { id: gh, issuer: "https://token.actions.githubusercontent.com", audience: gw, jwks: { uri: "http://keys.example/jwks" } }
rules:
  - id: open
    issuer: gh
    allow: { endpoints: [messages] }
  - id: open
    issuer: nowhere
    match: { subject: "repo:acme*" }
    allow: { endpoints: [models] }
`
    const first = loadConfigText(broken, 'broken.yaml', {})
    expect(first.ok).toBe(false)
    if (first.ok) return
    // Shape errors and problems of meaning come together; fixing the shape changes nothing else.
    expect(formatProblems(first.problems)).toMatchInlineSnapshot(`
      "✖ Too big: expected number to be <=65535 → at listen.port (line 2)
      ✖ unknown key "hots" → at listen.hots (line 2)
          hint: check the spelling against docs/config.md
      ✖ expected a duration such as "30s", "5m", "1h" or "90d" → at upstream.timeouts.connect (line 3)
      ✖ the upstream must use https (plain http only on a loopback address) → at upstream.url (line 3)
      ✖ the upstream url is an origin only (no path, query or fragment) → at upstream.url (line 3)
      ✖ algorithm HS256 is not allowed for workload tokens → at issuers[0].algorithms[0] (line 5)
          hint: use asymmetric algorithms such as RS256 or ES256 (RFC 8725 §3.2)
      ✖ duplicate issuer id "gh" → at issuers[1].id (line 6)
      ✖ issuer https://token.actions.githubusercontent.com is configured twice → at issuers[1].issuer (line 6)
      ✖ keys must be fetched over https → at issuers[1].jwks (line 6)
          hint: for a local test issuer set insecureAllowHttp: true
      ✖ the rule matches every token of its issuer: an audience alone identifies nobody → at rules[0].match (line 8)
          hint: pin a subject, claims or a condition
      ✖ the rule grants a model endpoint but no model → at rules[0].allow.models (line 10)
          hint: list model globs, e.g. ["claude-sonnet-*"], or ["*"] for every model
      ✖ issuer "gh" is shared by many tenants: the rule must pin one of repository_owner_id → at rules[0].match.claims (line 8)
          hint: e.g. claims: { repository_owner_id: "<your id>" }
      ✖ duplicate rule id "open" → at rules[1].id (line 11)
      ✖ unknown issuer "nowhere" → at rules[1].issuer (line 12)
          hint: one of: gh
      ✖ a subject prefix must end in "*" right after ":", "/" or "@" → at rules[1].match.subject (line 13)
          hint: e.g. "repo:acme/app:ref:refs/heads/*"
      ✖ environment variable NOT_SET_ANYWHERE is not set → at upstream.apiKey (line 3)
          hint: secrets come from { fromEnv }, { fromFile } or, in tests, { value }"
    `)
    const second = loadConfigText(broken.replace('port: 99999, hots: x', 'port: 8080').replace('connect: 10 }', 'connect: 10s }'), 'broken.yaml', {})
    expect(second.ok).toBe(false)
    if (second.ok) return
    expect(formatProblems(second.problems)).toMatchInlineSnapshot(`
      "✖ the upstream must use https (plain http only on a loopback address) → at upstream.url (line 3)
      ✖ the upstream url is an origin only (no path, query or fragment) → at upstream.url (line 3)
      ✖ algorithm HS256 is not allowed for workload tokens → at issuers[0].algorithms[0] (line 5)
          hint: use asymmetric algorithms such as RS256 or ES256 (RFC 8725 §3.2)
      ✖ duplicate issuer id "gh" → at issuers[1].id (line 6)
      ✖ issuer https://token.actions.githubusercontent.com is configured twice → at issuers[1].issuer (line 6)
      ✖ keys must be fetched over https → at issuers[1].jwks (line 6)
          hint: for a local test issuer set insecureAllowHttp: true
      ✖ the rule matches every token of its issuer: an audience alone identifies nobody → at rules[0].match (line 8)
          hint: pin a subject, claims or a condition
      ✖ the rule grants a model endpoint but no model → at rules[0].allow.models (line 10)
          hint: list model globs, e.g. ["claude-sonnet-*"], or ["*"] for every model
      ✖ issuer "gh" is shared by many tenants: the rule must pin one of repository_owner_id → at rules[0].match.claims (line 8)
          hint: e.g. claims: { repository_owner_id: "<your id>" }
      ✖ duplicate rule id "open" → at rules[1].id (line 11)
      ✖ unknown issuer "nowhere" → at rules[1].issuer (line 12)
          hint: one of: gh
      ✖ a subject prefix must end in "*" right after ":", "/" or "@" → at rules[1].match.subject (line 13)
          hint: e.g. "repo:acme/app:ref:refs/heads/*"
      ✖ environment variable NOT_SET_ANYWHERE is not set → at upstream.apiKey (line 3)
          hint: secrets come from { fromEnv }, { fromFile } or, in tests, { value }"
    `)
  })

  it('reports a missing required list key and a meaning problem elsewhere in one run, each with a line (issue #17)', () => {
    const text = `
upstream: { url: "http://127.0.0.1:9", apiKey: { value: k } }
issuers:
  - { id: ci, issuer: "https://ci.example", audience: gw, jwks: { keys: [{ kty: EC }] } }
  - id: other
    audience: gw
    jwks: { keys: [{ kty: EC }] }
  - { id: third, issuer: "https://third.example", audience: gw, algorithms: [HS256], jwks: { keys: [{ kty: EC }] } }
rules:
  - { id: a, issuer: nowhere, match: { subject: "repo:acme/*" }, allow: { endpoints: [messages], models: ["claude-*"] } }
  - { id: b, issuer: other, match: { subject: "repo:acme/*" }, allow: { endpoints: [messages], models: ["claude-*"] } }
`
    const result = loadConfigText(text, 'x.yaml', {})
    expect(result.ok).toBe(false)
    if (result.ok) return
    // The unknown issuer is reported; the rule naming the broken issuer "other" is not guessed at;
    // the issuer after the broken one keeps its own index in the file.
    expect(formatProblems(result.problems)).toBe(
      [
        '✖ the required key "issuer" is missing (expected a string) → at issuers[1].issuer (line 5)',
        '    hint: see docs/config.md for what this section needs',
        '✖ algorithm HS256 is not allowed for workload tokens → at issuers[2].algorithms[0] (line 8)',
        '    hint: use asymmetric algorithms such as RS256 or ES256 (RFC 8725 §3.2)',
        '✖ unknown issuer "nowhere" → at rules[0].issuer (line 10)',
        '    hint: one of: third, ci',
      ].join('\n'),
    )
  })

  it('says what a value of the wrong type is, and reads no secret when offline', () => {
    const text = minimal.replace('apiKey: { value: k }', 'apiKey: { fromEnv: NOT_SET_ANYWHERE }').replace('audience: gw,', 'audience: gw, direct: [yes],')
    const online = loadConfigText(text, 'x.yaml', {})
    const offline = loadConfigText(text, 'x.yaml', {}, { resolveSecrets: false })
    expect(online.ok || online.problems.map((p) => p.message)).toEqual(['expected a boolean here, found a list', 'environment variable NOT_SET_ANYWHERE is not set'])
    expect(offline.ok || offline.problems.map((p) => p.message)).toEqual(['expected a boolean here, found a list'])
  })

  it('rejects YAML duplicate keys and syntax errors with a line', () => {
    const result = loadConfigText('listen: {}\nlisten: {}\n', 'dup.yaml', {})
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.problems[0]).toMatchObject({ line: 2 })
  })

  it('freezes the loaded config deeply', () => {
    const result = loadConfigText(minimal, 'x.yaml', {})
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(() => {
      ;(result.config.rules[0] as { id: string }).id = 'other'
    }).toThrow(TypeError)
    expect(Object.isFrozen(result.config.issuers[0]?.jwks)).toBe(true)
  })

  it('keeps the checked-in JSON Schema and docs/config.md in sync with the definition', () => {
    const schema = configJsonSchema()
    const checkedIn = JSON.parse(readFileSync('schema/skillgate.schema.json', 'utf8'))
    expect(checkedIn, 'schema/skillgate.schema.json is stale: run npm run schema').toEqual(schema)
    expect(readFileSync('docs/config.md', 'utf8'), 'docs/config.md is stale: run npm run schema').toBe(renderConfigReference(schema))
  })
})

describe('Secret', () => {
  it('never prints itself', () => {
    const secret = Secret.resolve({ value: 'sk-ant-very-secret' })
    const rendered = [JSON.stringify({ secret }), String(secret), inspect(secret), inspect({ nested: { secret } })].join(' ')
    expect(rendered).not.toContain('very-secret')
    expect(secret.reveal()).toBe('sk-ant-very-secret')
  })

  it('follows its file so a rotated key applies without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-secret-'))
    const file = join(dir, 'key')
    writeFileSync(file, 'first-key\n')
    const secret = Secret.resolve({ fromFile: file })
    secret.follow(20)
    try {
      expect(secret.reveal()).toBe('first-key')
      writeFileSync(file, 'second-key-longer\n')
      await expect.poll(() => secret.reveal(), { timeout: 5_000 }).toBe('second-key-longer')
      writeFileSync(file, '')
      await new Promise((r) => setTimeout(r, 200))
      expect(secret.reveal(), 'an emptied file keeps the last good key').toBe('second-key-longer')
    } finally {
      secret.close()
    }
  })
})

describe('audit key material', () => {
  it('is read at validation: a signing key, a previous key or a TSA trust that does not parse is reported with its path', () => {
    const text = `${minimal}
audit:
  signing:
    key: { value: "-----BEGIN PRIVATE KEY-----\\nnot a key\\n-----END PRIVATE KEY-----" }
    previousKeys: [{ value: "nothing here" }]
  timestamping: { url: "http://127.0.0.1:9/tsr", trust: { value: "not a certificate" } }
`
    const result = loadConfigText(text, 'keys.yaml', {})
    expect(result.ok).toBe(false)
    if (result.ok) return
    const paths = result.problems.map((p) => p.path.join('.'))
    expect(paths).toEqual(expect.arrayContaining(['audit.signing.key', 'audit.signing.previousKeys.0', 'audit.timestamping.trust']))
    expect(result.problems.find((p) => p.path.join('.') === 'audit.timestamping.trust')?.message).toContain('no PEM certificate')
  })

  it('accepts a real key', async () => {
    const { generateKeyPairSync } = await import('node:crypto')
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const text = `${minimal}\naudit:\n  signing:\n    key: { value: ${JSON.stringify(pem)} }\n`
    expect(loadConfigText(text, 'keys.yaml', {}).ok).toBe(true)
  })
})
