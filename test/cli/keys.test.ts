import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { runKeysCommand } from '../../src/cli/commands/keys.js'
import { UsageError } from '../../src/cli/usage-error.js'

/** `skillgate keys rotate --now [--revoke-previous]` and `keys list`, on a key file and in the store. */
const dir = mkdtempSync(join(tmpdir(), 'skillgate-keys-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function configWith(name: string, gatewayTokens: Record<string, unknown>): string {
  const path = join(dir, `${name}.yaml`)
  writeFileSync(
    path,
    JSON.stringify({
      upstream: { url: 'http://127.0.0.1:9', apiKey: { fromEnv: 'NOT_NEEDED_BY_KEYS' } },
      storage: { url: `sqlite:${join(dir, `${name}.db`)}` },
      gatewayTokens,
    }),
  )
  return path
}

async function keys(...args: string[]): Promise<string> {
  let out = ''
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true))
  try {
    expect(await runKeysCommand(args)).toBe(0)
  } finally {
    spy.mockRestore()
  }
  return out
}

const listed = async (config: string) => (JSON.parse(await keys('list', '--json', '--config', config)) as { keys: { kid: string }[] }).keys.map((k) => k.kid)

describe('skillgate keys', () => {
  it('needs --now to rotate and refuses unknown actions', async () => {
    await expect(runKeysCommand(['rotate'])).rejects.toThrow(UsageError)
    await expect(runKeysCommand(['spin', '--now'])).rejects.toThrow(UsageError)
  })

  it('rotates a signingKey file; --revoke-previous keeps only the new key', async () => {
    const config = configWith('file', { signingKey: { fromFile: join(dir, 'keys', 'gw.json') } })
    const first = JSON.parse(await keys('rotate', '--now', '--json', '--config', config)) as { kid: string }
    const second = JSON.parse(await keys('rotate', '--now', '--json', '--config', config)) as { kid: string }
    expect(await listed(config)).toEqual([second.kid, first.kid])
    const third = JSON.parse(await keys('rotate', '--now', '--revoke-previous', '--json', '--config', config)) as { kid: string; revokedPrevious: boolean }
    expect(third.revokedPrevious).toBe(true)
    expect(await listed(config)).toEqual([third.kid])
  })

  it('rotates the keys in the store, reading only the key-encryption key', async () => {
    vi.stubEnv('KEK', randomBytes(32).toString('base64'))
    try {
      const config = configWith('store', { keyEncryption: { fromEnv: 'KEK' } })
      const first = JSON.parse(await keys('rotate', '--now', '--json', '--config', config)) as { kid: string }
      const out = await keys('rotate', '--now', '--revoke-previous', '--config', config)
      expect(out).toMatch(/in the store \(1 published\); every earlier key was dropped/)
      const kids = await listed(config)
      expect(kids).toHaveLength(1)
      expect(kids).not.toContain(first.kid)
    } finally {
      vi.unstubAllEnvs()
    }
  })
})
