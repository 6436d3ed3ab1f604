import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IssuerSpec } from '../../src/identity/index.js'
import { buildVectorToken, createVectorContext, loadTokenVectors, vectorIssuerSpecs, type TokenVector, type VectorContext } from '../fixtures/issuers/token-factory.js'
import { messageBody, startStack, type Stack } from './harness.js'

/**
 * The attack catalogue (workload-identity.md §11) presented to a running gateway: every vector the
 * verifier must refuse gets 401 and nothing reaches the upstream. Vectors with exchange-only verify
 * options (16 KiB assertions, required jti) belong to the token exchange and are run there.
 */
const vectors = await loadTokenVectors()
const directVectors = vectors.filter((v) => v.verify === undefined)
let stack: Stack
let ctx: VectorContext

const toConfigIssuer = (spec: IssuerSpec) => ({
  id: spec.id,
  issuer: spec.issuer,
  audience: spec.audience,
  algorithms: [...spec.algorithms],
  jwks: { keys: spec.jwks.kind === 'keys' ? spec.jwks.keys : [] },
  maxLifetime: `${spec.maxLifetimeMs}ms`,
  ...(spec.maxAgeMs !== undefined ? { maxAge: `${spec.maxAgeMs}ms` } : {}),
  clockSkew: `${spec.clockSkewMs}ms`,
  requiredClaims: ['sub', 'iat', 'exp', ...spec.requiredClaims],
  ...(spec.typ !== undefined ? { typ: spec.typ } : {}),
  direct: true,
})

beforeAll(async () => {
  ctx = await createVectorContext({ now: Date.now() })
  stack = await startStack({
    configure: (config) => {
      config.issuers = vectorIssuerSpecs(ctx).map(toConfigIssuer)
      config.rules = []
    },
  })
})
afterAll(async () => {
  await stack.close()
})

describe('attack catalogue against a running gateway', () => {
  it('has vectors to run', () => {
    expect(directVectors.filter((v) => 'reason' in v.expect).length).toBeGreaterThan(60)
  })

  it.each(directVectors.map((v) => [v.id, v] as const))('%s', async (_id, vector: TokenVector) => {
    stack.mock.reset()
    const token = await buildVectorToken(vector, ctx)
    if (/[\r\n\0]/.test(token)) {
      // Not a legal header value: no HTTP client can even send it.
      await expect(fetch(stack.url, { headers: { authorization: `Bearer ${token}` } })).rejects.toThrow()
      return
    }
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      body: messageBody(),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    })
    const body = (await res.json()) as { error: { type: string; message: string } }
    if ('reason' in vector.expect) {
      // 431: larger than the HTTP parser's header limit, refused before it is parsed at all.
      expect(vector.expect.reason === 'too_large' ? [401, 431] : [401]).toContain(res.status)
      expect(body.error.type).toBe(res.status === 431 ? 'invalid_request_error' : 'authentication_error')
    } else {
      // A valid token passes authentication; no rule is configured, so policy refuses it.
      expect(res.status).toBe(403)
    }
    expect(body.error.message).not.toContain(token.slice(0, 16))
    expect(stack.mock.requests).toHaveLength(0)
  })
})
