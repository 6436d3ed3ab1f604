import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { runOwnersCommand } from '../../src/cli/commands/owners.js'
import { UsageError } from '../../src/cli/usage-error.js'
import { startStack, type Stack } from './harness.js'

/**
 * `skillgate owners assign` (issue #12 item 3): objects created before the gateway kept owners are
 * nobody's (404 to every caller) until an operator names their owner, through the admin API or
 * straight into the store.
 */
const ADMIN_TOKEN = 'owners-admin-token-abcdefghijklmnop'
let stack: Stack

beforeAll(async () => {
  stack = await startStack({ configure: (config) => (config.admin = { tokens: [{ secret: { value: ADMIN_TOKEN }, roles: ['admin'] }] }) })
})
afterAll(async () => {
  await stack.close()
})

async function run(remote: boolean, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  if (remote) {
    vi.stubEnv('SKILLGATE_URL', stack.url)
    vi.stubEnv('SKILLGATE_ADMIN_TOKEN', ADMIN_TOKEN)
  }
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true))
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true))
  try {
    return { code: await runOwnersCommand(args), out, err }
  } finally {
    o.mockRestore()
    e.mockRestore()
    vi.unstubAllEnvs()
  }
}

const read = async (repositoryId: string, path: string) =>
  (await fetch(`${stack.url}${path}`, { headers: { 'x-api-key': await stack.mint({ repository_id: repositoryId }), 'anthropic-version': '2023-06-01' } })).status

/** A file uploaded straight to the upstream, as before the upgrade. */
async function legacyFile(): Promise<string> {
  const form = new FormData()
  form.append('file', new Blob(['old report']), 'old.txt')
  const res = await fetch(`${stack.mock.url}/v1/files`, { method: 'POST', body: form, headers: { 'x-api-key': stack.mock.apiKey, 'anthropic-version': '2023-06-01' } })
  return ((await res.json()) as { id: string }).id
}

describe('owners assign', () => {
  it('gives a pre-upgrade file to its owner through the admin API, audited', async () => {
    const id = await legacyFile()
    expect(await read('42', `/v1/files/${id}`)).toBe(404)
    const done = await run(true, 'assign', 'file', id, 'ci:1234567/42', '--reason', 'pre-upgrade upload')
    expect(done).toMatchObject({ code: 0, out: `✔ file ${id} now belongs to ci:1234567/42\n` })
    expect(await read('42', `/v1/files/${id}`)).toBe(200)
    expect(await read('43', `/v1/files/${id}`)).toBe(404)
    const records = await stack.gateway.audit.storage.audit.list({ limit: 20, principal: 'admin.tokens[0]' })
    expect(records.records.some((r) => r.reasons.some((reason) => reason.code === 'owner.assign' && reason.detail?.includes(id)))).toBe(true)
  })

  it('reassigns straight in the store and names the previous owner', async () => {
    const id = await legacyFile()
    await run(true, 'assign', 'file', id, 'ci:1234567/42')
    const moved = await run(false, 'assign', 'file', id, 'ci:1234567/43', '--store', stack.gateway.config.storage.url, '--json')
    expect(moved.code).toBe(0)
    expect(JSON.parse(moved.out)).toEqual({ kind: 'file', id, principal: 'ci:1234567/43', rule: null, previous: 'ci:1234567/42' })
    expect(await read('43', `/v1/files/${id}`)).toBe(200)
    expect(await read('42', `/v1/files/${id}`)).toBe(404)
  })

  it('refuses an unknown kind or a missing argument as a usage error', async () => {
    await expect(run(false, 'assign', 'widget', 'w_1', 'p')).rejects.toBeInstanceOf(UsageError)
    await expect(run(false, 'assign', 'file', 'file_1')).rejects.toBeInstanceOf(UsageError)
    expect((await run(false)).code).toBe(2)
  })
})
