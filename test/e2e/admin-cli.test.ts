import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { runAuditCommand } from '../../src/cli/commands/audit.js'
import { runRevokeCommand } from '../../src/cli/commands/revoke.js'
import { messageBody, startStack, type Stack } from './harness.js'

/** The CLI acting on a running gateway through its admin API (SPEC §1). */
const ADMIN_TOKEN = 'admin-token-for-tests-abcdefghijklmnop'
let stack: Stack

beforeAll(async () => {
  stack = await startStack({ configure: (config) => (config.admin = { tokens: [{ secret: { value: ADMIN_TOKEN }, roles: ['admin'] }] }) })
})
afterAll(async () => {
  await stack.close()
})

async function run(command: (args: string[]) => Promise<number>, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  vi.stubEnv('SKILLGATE_URL', stack.url)
  vi.stubEnv('SKILLGATE_ADMIN_TOKEN', ADMIN_TOKEN)
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true))
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true))
  try {
    return { code: await command(args), out, err }
  } finally {
    o.mockRestore()
    e.mockRestore()
    vi.unstubAllEnvs()
  }
}

const call = async (token: string) =>
  (await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })).status

describe('CLI through the admin API', () => {
  it('revokes a principal with immediate effect and shows it in the audit', async () => {
    const token = await stack.mint({ repository_id: '501' })
    expect(await call(token)).toBe(200)
    const revoked = await run(runRevokeCommand, 'principal', 'ci:1234567/501', '--before', new Date(Date.now() + 1000).toISOString(), '--reason', 'incident 42')
    expect(revoked.code, revoked.err).toBe(0)
    expect(await call(token), 'no polling delay in the process that revoked').toBe(401)
    const list = await run(runAuditCommand, 'list', '--principal', 'ci:1234567/501', '--json')
    const records = JSON.parse(list.out) as { status: number }[]
    expect(records.map((r) => r.status)).toEqual([401, 200])
    const admin = await run(runAuditCommand, 'list', '--json')
    expect((JSON.parse(admin.out) as { endpoint: string }[]).some((r) => r.endpoint === 'admin'), 'the admin action is audited').toBe(true)
    expect((await run(runAuditCommand, 'verify')).out).toContain('audit chain intact')
  })

  it('says what to do when the token is wrong', async () => {
    vi.stubEnv('SKILLGATE_URL', stack.url)
    vi.stubEnv('SKILLGATE_ADMIN_TOKEN', 'wrong')
    let err = ''
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true))
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    try {
      expect(await runAuditCommand(['list'])).toBe(1)
      expect(err).toContain('SKILLGATE_ADMIN_TOKEN')
    } finally {
      e.mockRestore()
      vi.restoreAllMocks()
      vi.unstubAllEnvs()
    }
  })
})
