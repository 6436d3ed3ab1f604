import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeProtectedHeader } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openGatewayTokens, type GatewayTokens } from '../../src/identity/gateway-token.js'
import { createKeySealer, decodeKeyEncryptionKey, type KeySealer } from '../../src/identity/gateway-token-sealing.js'
import { rotateKeyFileNow } from '../../src/identity/gateway-token-keys.js'
import { rotateStoredKeysNow } from '../../src/identity/gateway-token-store-keys.js'
import { openStorage } from '../../src/storage/open-storage.js'
import type { Storage } from '../../src/storage/ports.js'
import { TokenError } from '../../src/identity/types.js'

/**
 * Gateway signing keys in the store (issue #14): two gateways on one store sign and verify with the
 * same keys, one of them rotates, an emergency rotation with revocation refuses every earlier token
 * (cached verifications included), and a key file is imported on the first start.
 */
const ISSUER = 'https://skillgate.example'
const T0 = 1_800_000_000_000
const kek = () => randomBytes(32)
const source = (nowMs: number) => ({ iss: 'https://ci.example', sub: 'job:1', jti: 'j', exp: Math.floor(nowMs / 1000) + 300 })

let dir: string
let clock: { now: number }
const cleanup: Array<() => unknown> = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skillgate-keys-'))
  clock = { now: T0 }
})
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
  await rm(dir, { recursive: true, force: true })
})

async function store(): Promise<Storage> {
  const storage = await openStorage(`sqlite:${join(dir, 'store.db')}`)
  await storage.migrate()
  cleanup.push(() => storage.close())
  return storage
}

async function gateway(storage: Storage, sealer: KeySealer, importFile?: string): Promise<GatewayTokens> {
  const keyStore = { store: storage.gatewayKeys, sealer, refreshMs: 20, ...(importFile ? { importFile } : {}) }
  const tokens = await openGatewayTokens({ keyStore, issuer: ISSUER, ttlMs: 300_000, rotateAfterMs: 300_000, now: () => clock.now })
  cleanup.push(() => tokens.close())
  return tokens
}

const mint = async (tokens: GatewayTokens) => (await tokens.mint({ principal: 'p', rule: 'r', client: 'c', source: source(clock.now) })).token
const kidOf = (token: string) => decodeProtectedHeader(token).kid
const reason = (promise: Promise<unknown>) => promise.then(() => 'ok', (e: unknown) => (TokenError.is(e) ? e.reason : String(e)))

describe('sealing', () => {
  it('opens with any configured key-encryption key and refuses altered, moved or foreign rows', () => {
    const [k1, k2] = [kek(), kek()]
    const sealed = createKeySealer([k1]).seal('kid-1', '{"d":"secret"}')
    expect(sealed).not.toContain('secret')
    expect(createKeySealer([k2, k1]).open('kid-1', sealed)).toBe('{"d":"secret"}')
    expect(() => createKeySealer([k1]).open('kid-2', sealed)).toThrow(/does not open/)
    expect(() => createKeySealer([k2]).open('kid-1', sealed)).toThrow(/not configured/)
    const parts = sealed.split('.')
    parts[3] = Buffer.from('{"d":"forged"}').toString('base64url')
    expect(() => createKeySealer([k1]).open('kid-1', parts.join('.'))).toThrow(/does not open/)
  })

  it('accepts only 32 bytes of base64 as a key-encryption key', () => {
    expect(decodeKeyEncryptionKey(`${kek().toString('base64')}\n`)).toHaveLength(32)
    expect(() => decodeKeyEncryptionKey(randomBytes(31).toString('base64'))).toThrow(/32 random bytes/)
    expect(() => decodeKeyEncryptionKey('not base64 at all!')).toThrow(/32 random bytes/)
  })
})

describe('signing keys in the store', () => {
  it('two gateways share the keys; a scheduled rotation at one leaves tokens of the other valid', async () => {
    const sealer = createKeySealer([kek()])
    const storage = await store()
    const [a, b] = [await gateway(storage, sealer), await gateway(await store(), sealer)]
    const fromA = await mint(a)
    clock.now += 299_000
    const fromB = await mint(b)
    expect(kidOf(fromA)).toBe(kidOf(fromB))
    expect(await reason(b.verify(fromA))).toBe('ok')
    const rows = await storage.gatewayKeys.list()
    expect(rows).toHaveLength(1)
    expect(rows[0]!.sealed).not.toContain('"d"')

    clock.now += 1_000
    const rotated = await mint(a)
    expect(kidOf(rotated)).not.toBe(kidOf(fromA))
    expect(await reason(b.verify(rotated))).toBe('ok')
    expect(await reason(a.verify(fromB))).toBe('ok')
    // B, due as well, finds A's key in the store instead of adding another.
    expect(kidOf(await mint(b))).toBe(kidOf(rotated))
    expect(await storage.gatewayKeys.list()).toHaveLength(2)
    expect(b.jwks().keys).toHaveLength(2)
  })

  it('rotate --now --revoke-previous refuses every earlier token at every gateway, cached or not', async () => {
    const sealer = createKeySealer([kek()])
    const storage = await store()
    const [a, b] = [await gateway(storage, sealer), await gateway(await store(), sealer)]
    const before = await mint(a)
    expect(await reason(b.verify(before))).toBe('ok')
    const { kid } = await rotateStoredKeysNow({ store: storage.gatewayKeys, sealer, retainMs: 310_000, now: () => clock.now, revokePrevious: true })
    await expect.poll(() => reason(b.verify(before)), { timeout: 1_000, interval: 20 }).toBe('unknown_kid')
    await expect.poll(() => reason(a.verify(before)), { timeout: 1_000, interval: 20 }).toBe('unknown_kid')
    const after = await mint(b)
    expect(kidOf(after)).toBe(kid)
    expect(await reason(a.verify(after))).toBe('ok')
  })

  it('a token of a key rotated elsewhere verifies at once, also when many arrive together', async () => {
    const sealer = createKeySealer([kek()])
    const storage = await store()
    const a = await gateway(storage, sealer)
    // B's periodic read is far off: only the unknown kid can make it read the store.
    const b = await openGatewayTokens({ keyStore: { store: (await store()).gatewayKeys, sealer, refreshMs: 3_600_000 }, issuer: ISSUER, ttlMs: 300_000, rotateAfterMs: 300_000, now: () => clock.now })
    cleanup.push(() => b.close())
    clock.now += 1_000 // the new key is the newest
    const { kid } = await rotateStoredKeysNow({ store: storage.gatewayKeys, sealer, retainMs: 310_000, now: () => clock.now, revokePrevious: false })
    let rotated = ''
    await expect.poll(async () => kidOf((rotated = await mint(a))), { timeout: 1_000, interval: 20 }).toBe(kid)
    const answers = await Promise.all(Array.from({ length: 8 }, () => reason(b.verify(rotated))))
    expect(answers).toEqual(Array(8).fill('ok'))
  })

  it('so does a token of a key a sibling wrote to the shared key file', async () => {
    const file = join(dir, 'keys.json')
    const open = async () => {
      const tokens = await openGatewayTokens({ keyFile: file, issuer: ISSUER, ttlMs: 300_000, now: () => clock.now })
      cleanup.push(() => tokens.close())
      return tokens
    }
    const a = await open()
    clock.now += 1_000
    const { kid } = await rotateKeyFileNow(file, { retainMs: 310_000, now: () => clock.now, revokePrevious: false })
    const rotated = await mint(await open())
    expect(kidOf(rotated)).toBe(kid)
    const answers = await Promise.all(Array.from({ length: 8 }, () => reason(a.verify(rotated))))
    expect(answers).toEqual(Array(8).fill('ok'))
  })

  it('imports the default key file into an empty store once', async () => {
    const file = join(dir, 'gateway-signing-key.json')
    await rotateKeyFileNow(file, { retainMs: 310_000, now: () => clock.now, revokePrevious: false })
    const fromFile = await openGatewayTokens({ keyFile: file, issuer: ISSUER, ttlMs: 300_000, now: () => clock.now })
    cleanup.push(() => fromFile.close())
    const old = await mint(fromFile)
    const sealer = createKeySealer([kek()])
    const inStore = await gateway(await store(), sealer, file)
    expect(await reason(inStore.verify(old))).toBe('ok')
    expect(kidOf(await mint(inStore))).toBe(kidOf(old))
  })

  it('refuses to start when the stored keys were sealed under another key-encryption key', async () => {
    const storage = await store()
    await gateway(storage, createKeySealer([kek()]))
    await expect(gateway(storage, createKeySealer([kek()]))).rejects.toThrow(/key-encryption key that is not configured/)
  })

  it('keeps signing through a store outage and reports it once', async () => {
    const storage = await store()
    let reads = 0
    const counted = { list: () => (reads++, storage.gatewayKeys.list()), rotate: storage.gatewayKeys.rotate.bind(storage.gatewayKeys), seed: storage.gatewayKeys.seed.bind(storage.gatewayKeys) }
    const errors: string[] = []
    const keyStore = { store: counted, sealer: createKeySealer([kek()]), refreshMs: 20, onError: (error: Error) => errors.push(error.message) }
    const tokens = await openGatewayTokens({ keyStore, issuer: ISSUER, ttlMs: 300_000, now: () => clock.now })
    cleanup.push(() => tokens.close())
    const before = await mint(tokens)
    await storage.close()
    const readsAtClose = reads
    // Several failed refreshes later, one report.
    await expect.poll(() => reads, { timeout: 1_000, interval: 20 }).toBeGreaterThan(readsAtClose + 4)
    expect(errors).toHaveLength(1)
    expect(await reason(tokens.verify(before))).toBe('ok')
    expect(kidOf(await mint(tokens))).toBe(kidOf(before))
  })

  it('refuses to open without exactly one key source', async () => {
    await expect(openGatewayTokens({ issuer: ISSUER, ttlMs: 300_000 })).rejects.toThrow(/exactly one/)
  })
})
