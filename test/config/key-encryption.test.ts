/**
 * `gatewayTokens.keyEncryption` (issue #14): a PostgreSQL store needs it (or a shared signingKey
 * file), and every key must be 32 bytes of base64, found at load time rather than at first rotation.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { loadConfigText } from '../../src/config/load.js'

const base = `
upstream: { url: "http://127.0.0.1:9", apiKey: { value: k } }
issuers:
  - { id: ci, issuer: "https://ci.example", audience: gw, jwks: { keys: [{ kty: EC }] } }
rules:
  - id: job
    issuer: ci
    match: { subject: "repo:acme/*" }
    allow: { endpoints: [messages], models: ["claude-*"] }
`
const postgres = 'storage: { url: "postgres://skillgate@db/skillgate" }\n'
const kek = () => randomBytes(32).toString('base64')

function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  const result = loadConfigText(text, 'test.yaml', env)
  return result.ok ? [] : result.problems.map((p) => `${p.path.join('.')}: ${p.message}`)
}

describe('gatewayTokens.keyEncryption', () => {
  it('refuses PostgreSQL without keyEncryption or a signingKey file, and says how to fix it', () => {
    const result = loadConfigText(`${base}${postgres}`, 'test.yaml', {})
    expect(result.ok ? [] : result.problems).toEqual([
      expect.objectContaining({ path: ['gatewayTokens', 'keyEncryption'], message: expect.stringContaining('PostgreSQL store needs gatewayTokens.keyEncryption'), hint: expect.stringContaining('openssl rand -base64 32') }),
    ])
    expect(problemsOf(`${base}${postgres}gatewayTokens: { signingKey: { fromFile: /var/run/shared/keys.json } }\n`)).toEqual([])
    expect(problemsOf(`${base}${postgres}gatewayTokens: { keyEncryption: { fromEnv: KEK } }\n`, { KEK: kek() })).toEqual([])
  })

  it('keeps the SQLite default (a key file) without keyEncryption', () => {
    const result = loadConfigText(base, 'test.yaml', {})
    expect(result.ok && result.config.gatewayTokens.signingKey === undefined && result.config.secrets.keyEncryption.length === 0).toBe(true)
  })

  it('resolves a list, the sealing key first, and refuses a key that is not 32 bytes of base64', () => {
    const [first, second] = [kek(), kek()]
    const result = loadConfigText(`${base}gatewayTokens: { keyEncryption: [{ value: "${first}" }, { fromEnv: OLD }] }\n`, 'test.yaml', { OLD: second })
    expect(result.ok ? result.config.secrets.keyEncryption.map((s) => s.reveal()) : result.problems).toEqual([first, second])
    expect(problemsOf(`${base}gatewayTokens: { keyEncryption: [{ value: "${first}" }, { value: "${randomBytes(16).toString('base64')}" }] }\n`)).toEqual([
      'gatewayTokens.keyEncryption.1: a key-encryption key is 32 random bytes in base64 (openssl rand -base64 32)',
    ])
    expect(problemsOf(`${base}gatewayTokens: { keyEncryption: { fromEnv: MISSING } }\n`)).toEqual(['gatewayTokens.keyEncryption: environment variable MISSING is not set'])
  })
})
