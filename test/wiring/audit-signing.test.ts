import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { parseTrustedKeys } from '../../src/audit/heads/index.js'
import { loadConfigText } from '../../src/config/load.js'
import { loadAuditSigning } from '../../src/wiring/audit-signing.js'

/** `audit.signing` keys (issue #16): given, required with PostgreSQL, generated once for SQLite. */
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function config(storageUrl: string, signing: Record<string, unknown>) {
  // A PostgreSQL store also needs its gateway key-encryption key (issue #14); irrelevant here.
  const gatewayTokens = storageUrl.startsWith('postgres') ? { keyEncryption: { value: Buffer.alloc(32, 7).toString('base64') } } : undefined
  const text = JSON.stringify({ upstream: { apiKey: { value: 'k' } }, storage: { url: storageUrl }, audit: { signing }, ...(gatewayTokens ? { gatewayTokens } : {}) })
  const loaded = loadConfigText(text, 'signing.json', {})
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
  return loaded.config
}
const pem = (type: 'ed25519' | 'ec') => generateKeyPairSync(type as 'ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
const silent = pino({ level: 'silent' })

describe('audit signing keys', () => {
  it('is off without audit.signing', async () => {
    const loaded = loadConfigText(JSON.stringify({ upstream: { apiKey: { value: 'k' } } }), 'x.json', {})
    expect(loaded.ok && (await loadAuditSigning(loaded.config, silent))).toBeUndefined()
  })

  it('refuses PostgreSQL without a key: in config validation, and again at start-up; never generates one there', async () => {
    const text = JSON.stringify({ upstream: { apiKey: { value: 'k' } }, storage: { url: 'postgres://127.0.0.1/x' }, audit: { signing: {} } })
    const loaded = loadConfigText(text, 'pg.json', {})
    expect(loaded.ok).toBe(false)
    expect(!loaded.ok && loaded.problems).toEqual([expect.objectContaining({ path: ['audit', 'signing', 'key'], message: expect.stringMatching(/required with PostgreSQL/) })])
    const sqlite = config('sqlite:./x.db', {})
    const onPostgres = { ...sqlite, storage: { ...sqlite.storage, url: 'postgres://127.0.0.1/x' } }
    await expect(loadAuditSigning(onPostgres, silent)).rejects.toThrow(/audit.signing.key is required with PostgreSQL/)
  })

  it('uses a given P-256 key and publishes it with the previous keys', async () => {
    const current = pem('ec')
    const old = pem('ed25519')
    const keys = await loadAuditSigning(config('postgres://127.0.0.1/x', { key: { value: current.privateKey }, previousKeys: [{ value: old.publicKey }] }), silent)
    expect(keys?.key.alg).toBe('ES256')
    expect(keys?.jwks.keys).toEqual([expect.objectContaining({ alg: 'ES256', kty: 'EC' }), expect.objectContaining({ alg: 'EdDSA', kty: 'OKP' })])
    expect(JSON.stringify(keys?.jwks)).not.toContain('"d"')
    expect([...parseTrustedKeys(JSON.stringify(keys?.jwks)).keys()]).toEqual([keys?.key.kid, ...parseTrustedKeys(old.publicKey).keys()])
  })

  it('refuses a key that is not Ed25519 or P-256, without echoing it: in config validation, and again at start-up', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
    const text = JSON.stringify({ upstream: { apiKey: { value: 'k' } }, audit: { signing: { key: { value: rsa.privateKey } } } })
    const loaded = loadConfigText(text, 'rsa.json', {})
    expect(!loaded.ok && loaded.problems).toEqual([expect.objectContaining({ path: ['audit', 'signing', 'key'], message: expect.stringMatching(/Ed25519 or P-256, not rsa/) })])
    expect(JSON.stringify(loaded)).not.toContain('PRIVATE KEY')
    const valid = config('sqlite:./x.db', {})
    const withRsa = { ...valid, audit: { ...valid.audit, signing: { ...valid.audit.signing!, key: { value: rsa.privateKey } } } }
    const error = await loadAuditSigning(withRsa, silent).catch((e: unknown) => e as Error)
    expect(String(error)).toMatch(/Ed25519 or P-256, not rsa/)
    expect(String(error)).not.toContain('PRIVATE KEY')
  })

  it('generates an Ed25519 key for SQLite once, mode 0600, and reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-signing-'))
    dirs.push(dir)
    const url = `sqlite:${join(dir, 'db', 'store.db')}`
    const first = await loadAuditSigning(config(url, {}), silent)
    const file = join(dir, 'db', 'audit-signing-key.pem')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(first?.key.alg).toBe('EdDSA')
    const [a, b] = await Promise.all([loadAuditSigning(config(url, {}), silent), loadAuditSigning(config(url, {}), silent)])
    expect(new Set([first?.key.kid, a?.key.kid, b?.key.kid]).size).toBe(1)
  })
})
