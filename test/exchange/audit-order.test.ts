/**
 * Issue #16 item 5: a granted exchange's opening audit record is committed before anything takes
 * effect and its completion before the token is returned; when either cannot be committed the
 * exchange answers 503 and no token leaves (an unwritable opening also spends nothing).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ExchangeEvent, ExchangeOpening } from '../../src/exchange/index.js'
import { JWT_TYPE, TOKEN_EXCHANGE, startExchangeStack, type ExchangeStack } from './helpers.js'

let stack: ExchangeStack | undefined
afterEach(async () => {
  await stack?.close()
  stack = undefined
})

const exchange = (s: ExchangeStack) => s.form({ grant_type: TOKEN_EXCHANGE, subject_token: s.mint({ jti: `j-${Math.random()}` }), subject_token_type: JWT_TYPE })

describe('exchange audit ordering', () => {
  it('opens the record before minting and closes it before answering', async () => {
    const log: string[] = []
    let opened: ExchangeOpening | undefined
    stack = await startExchangeStack({
      singleUse: true,
      deps: {
        openRecord: async (opening) => {
          opened = opening
          log.push(`open (minted so far: ${stack?.minted.size ?? 0})`)
          return async (event: ExchangeEvent) => void log.push(`close ${event.type} (minted: ${stack?.minted.size ?? 0})`)
        },
      },
    })
    const reply = await exchange(stack)
    expect(reply.status).toBe(200)
    expect(log).toEqual(['open (minted so far: 0)', 'close exchange.succeeded (minted: 1)'])
    expect(opened).toMatchObject({ grant: 'token-exchange', issuerId: 'github', rule: 'release-notes', principal: expect.stringMatching(/^gha:/) })
    expect(stack.events.at(-1)).toMatchObject({ type: 'exchange.succeeded', audited: true })
  })

  it('answers 503 and mints and spends nothing when the opening cannot be committed', async () => {
    stack = await startExchangeStack({
      singleUse: true,
      deps: {
        openRecord: async () => {
          throw new Error('store down')
        },
      },
    })
    const token = stack.mint({ jti: 'only-once' })
    const reply = await stack.form({ grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE })
    expect(reply.status).toBe(503)
    expect(reply.json).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) })
    expect(stack.minted.size).toBe(0)
    expect(stack.events.at(-1)).toMatchObject({ type: 'exchange.failed', reason: 'audit' })
    expect(stack.events.at(-1)).not.toHaveProperty('audited')
    // The assertion was not spent: with the store back, the same assertion exchanges.
    const again = await startExchangeStack({ singleUse: true, deps: { replay: stack.replay } })
    try {
      expect((await again.form({ grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE })).status).toBe(200)
    } finally {
      await again.close()
    }
  })

  it('returns no token when the completion cannot be committed, and closes a failed exchange once', async () => {
    const closes: ExchangeEvent[] = []
    stack = await startExchangeStack({
      deps: {
        openRecord: async () => async (event: ExchangeEvent) => {
          closes.push(event)
          throw new Error('store down')
        },
      },
    })
    const reply = await exchange(stack)
    expect(reply.status).toBe(503)
    expect(reply.json.access_token).toBeUndefined()
    expect(closes.map((e) => e.type)).toEqual(['exchange.succeeded'])
    expect(stack.events.at(-1)).toMatchObject({ type: 'exchange.failed', reason: 'audit', audited: true })
  })

  it('closes the record of a granted exchange that fails afterwards (minted store down) as an error', async () => {
    const closes: ExchangeEvent[] = []
    stack = await startExchangeStack({
      deps: {
        minted: { put: async () => Promise.reject(new Error('down')), get: async () => undefined },
        openRecord: async () => async (event: ExchangeEvent) => void closes.push(event),
      },
    })
    expect((await exchange(stack)).status).toBe(503)
    expect(closes).toEqual([expect.objectContaining({ type: 'exchange.failed', reason: 'minted_store', status: 503, audited: true })])
    expect(stack.events.at(-1)).toMatchObject({ type: 'exchange.failed', audited: true })
  })
})
