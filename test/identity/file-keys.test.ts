/** JWKS file sources: async load, re-read on change, keep the previous keys when a new file is bad. */
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createTokenVerifier, type TokenVerifier } from '../../src/identity/index.js'
import { generateIssuerKeys } from '../fixtures/issuers/keys.js'
import { mintToken } from '../fixtures/issuers/mint.js'
import { githubSpec, reasonOf, sleep } from './helpers.js'

const ISSUER = 'https://gitlab.example'
const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function setup(): Promise<{ path: string; verifier: TokenVerifier }> {
  const dir = await mkdtemp(join(tmpdir(), 'skillgate-jwks-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'jwks.json')
  const verifier = createTokenVerifier([githubSpec(ISSUER, { id: 'gitlab', jwks: { kind: 'file', path }, allowInsecureHttp: false })])
  cleanup.push(() => verifier.close())
  return { path, verifier }
}

/**
 * Atomic replace, like a config-management tool or a kubelet projected volume would do. The new
 * file is a new inode, which the watcher compares besides mtime, so no wait for mtime granularity.
 */
async function replaceFile(path: string, content: string): Promise<void> {
  await writeFile(`${path}.tmp`, content)
  await rename(`${path}.tmp`, path)
}

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 6_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached')
    await sleep(100)
  }
}

describe('file JWKS source', () => {
  it('loads lazily, picks up a rotated file without restart, and keeps old keys on a bad file', async () => {
    const { path, verifier } = await setup()
    const first = await generateIssuerKeys(ISSUER, 'a')
    await writeFile(path, JSON.stringify(first.jwks()))
    const tokenA = mintToken(first)
    expect(await reasonOf(verifier.verify(tokenA))).toBe('valid') // first use loads the file
    expect(verifier.health()[0]?.state).toBe('ready')

    const second = await generateIssuerKeys(ISSUER, 'b')
    const tokenB = mintToken(second, {}, { alg: 'ES256' })
    expect(await reasonOf(verifier.verify(tokenB))).toBe('unknown_kid')
    await replaceFile(path, JSON.stringify(second.jwks()))
    await eventually(async () => (await reasonOf(verifier.verify(tokenB))) === 'valid')
    expect(await reasonOf(verifier.verify(tokenA))).toBe('unknown_kid')

    await replaceFile(path, '{"keys": [ broken')
    await eventually(() => verifier.health()[0]?.state === 'degraded')
    expect(verifier.health()[0]?.detail).toBe('JWKS file unreadable or not JSON')
    expect(await reasonOf(verifier.verify(tokenB))).toBe('valid')
  })

  it('a missing file makes the issuer unavailable until it appears', async () => {
    const { path, verifier } = await setup()
    await verifier.warmUp()
    expect(verifier.health()[0]?.state).toBe('unavailable')
    const keys = await generateIssuerKeys(ISSUER, 'c')
    const token = mintToken(keys)
    expect(await reasonOf(verifier.verify(token))).toBe('issuer_unavailable')
    await writeFile(path, JSON.stringify(keys.jwks()))
    await eventually(async () => (await reasonOf(verifier.verify(token))) === 'valid')
    expect(verifier.health()[0]?.state).toBe('ready')
  })

  it('refuses a file with private key material', async () => {
    const { path, verifier } = await setup()
    const keys = await generateIssuerKeys(ISSUER, 'd')
    const privateJwk = keys.rsa.privateKey.export({ format: 'jwk' })
    await writeFile(path, JSON.stringify({ keys: [{ ...privateJwk, kid: keys.rsa.kid }] }))
    await verifier.warmUp()
    expect(verifier.health()[0]).toMatchObject({ state: 'unavailable', detail: 'JWKS file contains private or symmetric key material' })
  })
})
