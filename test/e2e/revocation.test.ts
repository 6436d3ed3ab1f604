import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { runRevokeCommand } from '../../src/cli/commands/revoke.js'
import { ISSUER, messageBody, startStack, type Stack } from './harness.js'

let stack: Stack
let store: string

beforeAll(async () => {
  stack = await startStack()
  store = String((stack.gateway.config.storage as { url: string }).url)
})
afterAll(async () => {
  await stack.close()
})

async function call(token: string): Promise<number> {
  const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
  await res.text()
  return res.status
}

async function revoke(...args: string[]): Promise<void> {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
  try {
    expect(await runRevokeCommand([...args, '--store', store])).toBe(0)
  } finally {
    vi.restoreAllMocks()
  }
}

const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string; iat: number }

describe('revocation', () => {
  it('refuses a revoked principal on its next call (tokens issued before the cut-off), not later tokens', async () => {
    const old = await stack.mint({ repository_id: '77' })
    expect(await call(old)).toBe(200)
    await revoke('principal', 'ci:1234567/77', '--before', new Date((decode(old).iat + 1) * 1000).toISOString(), '--reason', 'leaked')
    await expect.poll(() => call(old), { timeout: 3_000, interval: 100 }).toBe(401)
    const other = await stack.mint({ repository_id: '78' })
    expect(await call(other), 'another principal is unaffected').toBe(200)
    // A token counts as later only when its iat (whole seconds) is past the cut-off.
    const cutOffSeconds = decode(old).iat + 1
    while (Math.floor(Date.now() / 1000) <= cutOffSeconds) await new Promise((r) => setTimeout(r, 100))
    const fresh = await stack.mint({ repository_id: '77' })
    expect(await call(fresh), 'a token issued after the cut-off works').toBe(200)
  })

  it('refuses one revoked token by (iss, jti) and leaves the others', async () => {
    const leaked = await stack.mint({ repository_id: '90' })
    const sibling = await stack.mint({ repository_id: '90' })
    expect(await call(leaked)).toBe(200)
    await revoke('jti', ISSUER, decode(leaked).jti)
    await expect.poll(() => call(leaked), { timeout: 3_000, interval: 100 }).toBe(401)
    expect(await call(sibling)).toBe(200)
  })

  it('refuses every token of a disabled issuer until it is enabled again', async () => {
    const token = await stack.mint({ repository_id: '91' })
    await revoke('issuer', 'ci')
    await expect.poll(() => call(token), { timeout: 3_000, interval: 100 }).toBe(401)
    await revoke('enable', 'issuer', 'ci')
    await expect.poll(() => call(token), { timeout: 3_000, interval: 100 }).toBe(200)
  })

  it('audits the refusal with the revocation as the reason', async () => {
    const token = await stack.mint({ repository_id: '92' })
    await revoke('jti', ISSUER, decode(token).jti)
    await expect.poll(() => call(token), { timeout: 3_000, interval: 100 }).toBe(401)
    const { records } = await stack.gateway.audit.storage.audit.list({ limit: 5, outcome: 'denied' })
    expect(records[0]).toMatchObject({ status: 401, error: 'GW_AUTHN_REVOKED' })
  })
})
