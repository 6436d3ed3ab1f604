/**
 * What a minted gateway token keeps of its source (issue #13 items 1, 3, 6): the full verified claims
 * in the store by gateway `jti` (503 and no token when that fails), `src.iss`/`src.jti` hashed when
 * long, and the subject's `act` delegation chain nested under the minted `act`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryMintedStore } from '../../src/exchange/index.js'
import { sourceValue } from '../../src/identity/source-value.js'
import { JWT_TYPE, TOKEN_EXCHANGE, lastEvent, startExchangeStack, type ExchangeStack } from './helpers.js'

let stack: ExchangeStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

async function open(options: Parameters<typeof startExchangeStack>[0] = {}): Promise<ExchangeStack> {
  stack = await startExchangeStack(options)
  return stack
}

const exchange = (s: ExchangeStack, claims: Record<string, unknown> = {}) =>
  s.form({ grant_type: TOKEN_EXCHANGE, subject_token: s.mint(claims), subject_token_type: JWT_TYPE })

describe('the source of a minted token', () => {
  it('keeps the full verified claims of the subject by the gateway token jti until it expires', async () => {
    const s = await open()
    const reply = await exchange(s, { nested: { team: 'docs' } })
    expect(reply.status).toBe(200)
    const claims = await s.tokens.verify(reply.json.access_token as string)
    const source = await s.minted.get(claims.jti)
    expect(source?.issuerId).toBe('github')
    expect(source?.claims).toMatchObject({ repository_owner_id: '162148032', ref: 'refs/heads/main', nested: { team: 'docs' } })
    expect(s.minted.size).toBe(1)
  })

  it('answers 503 temporarily_unavailable and hands out no token when the source cannot be kept', async () => {
    const s = await open({
      deps: {
        minted: {
          put: async () => {
            throw new Error('store down')
          },
          get: async () => undefined,
        },
      },
    })
    const reply = await exchange(s)
    expect(reply.status).toBe(503)
    expect(reply.json).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) })
    expect(reply.json).not.toHaveProperty('access_token')
    expect(lastEvent(s)).toMatchObject({ type: 'exchange.failed', reason: 'minted_store' })
  })

  it('carries a long iss or jti as its SHA-256 so revocation can still find it', async () => {
    const s = await open()
    const longJti = `j-${'x'.repeat(300)}`
    const claims = await s.tokens.verify((await exchange(s, { jti: longJti })).json.access_token as string)
    expect(claims.src.jti).toBe(sourceValue(longJti))
    expect(claims.src.jti).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/)
    expect(claims.src.iss).toBe(s.github.issuer)
    const short = await s.tokens.verify((await exchange(s, { jti: 'short-jti' })).json.access_token as string)
    expect(short.src.jti).toBe('short-jti')
  })
})

describe('the delegation chain (RFC 8693 §4.1)', () => {
  it('nests the subject act under the minted act and reports it', async () => {
    const s = await open()
    const reply = await exchange(s, { act: { sub: 'deploy-bot', act: { sub: 'alice@corp', iss: 'https://sso.corp', role: 'ignored' } } })
    expect(reply.status).toBe(200)
    const claims = await s.tokens.verify(reply.json.access_token as string)
    expect(claims.act).toEqual({ sub: 'token-exchange', act: { sub: 'deploy-bot', act: { sub: 'alice@corp', iss: 'https://sso.corp' } } })
    expect(lastEvent(s)).toMatchObject({ type: 'exchange.succeeded', act: { sub: 'deploy-bot', act: { sub: 'alice@corp' } } })
  })

  it('carries long actor values hashed so five levels cannot bloat the token', async () => {
    const s = await open()
    const longSub = `svc-${'a'.repeat(200)}`
    const claims = await s.tokens.verify((await exchange(s, { act: { sub: longSub, iss: 'https://sso.corp' } })).json.access_token as string)
    expect(claims.act).toEqual({ sub: 'token-exchange', act: { sub: sourceValue(longSub, 64), iss: 'https://sso.corp' } })
    expect(claims.act.act?.sub).toMatch(/^sha256:/)
  })

  it('accepts a chain of four and refuses five (the minted act would be six deep) or a malformed one', async () => {
    const s = await open()
    const chain = (depth: number): Record<string, unknown> => (depth === 1 ? { sub: 'a1' } : { sub: `a${depth}`, act: chain(depth - 1) })
    expect((await exchange(s, { act: chain(4) })).status).toBe(200)
    for (const act of [chain(5), { sub: 7 }, ['x'], { sub: 'a', act: 'b' }]) {
      const reply = await exchange(s, { act })
      expect(reply.json.error).toBe('invalid_grant')
      expect(lastEvent(s)).toMatchObject({ reason: 'act_chain' })
    }
  })
})

describe('the in-memory minted-token store', () => {
  it('forgets an entry when it expires and fails closed when full of live entries', async () => {
    let now = 1_000_000
    const store = createMemoryMintedStore({ now: () => now, maxEntries: 2 })
    const source = { issuerId: 'github', claims: { sub: 'x' } }
    await store.put('a', source, new Date(now + 1_000))
    await store.put('b', source, new Date(now + 5_000))
    await expect(store.put('c', source, new Date(now + 5_000))).rejects.toThrow(/full/)
    now += 1_000
    expect(await store.get('a')).toBeUndefined()
    await store.put('c', source, new Date(now + 5_000))
    expect(await store.get('b')).toEqual(source)
    expect(await store.get('c')).toEqual(source)
  })
})
