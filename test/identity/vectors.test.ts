/**
 * Runs every token vector of test/vectors/tokens/ (the attack catalogue, workload-identity.md §11)
 * against the verifier, twice: with inline keys, and with discovery against running fake issuers, so
 * the remote key-set path gives the same reasons.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenVerifier, TokenError, tokenRejectReasons, type TokenVerifier } from '../../src/identity/index.js'
import { startFakeIssuer, type FakeIssuer } from '../fixtures/issuers/fake-issuer.js'
import {
  buildVectorToken,
  createVectorContext,
  loadTokenVectors,
  vectorIssuerSpecs,
  type TokenVector,
  type VectorContext,
} from '../fixtures/issuers/token-factory.js'

const vectors = await loadTokenVectors()

/** Object.prototype must be untouched after verifying a `__proto__`-carrying token (#57). */
function assertNoPollution(): void {
  const probe: Record<string, unknown> = {}
  expect(probe.admin).toBeUndefined()
  expect(probe.polluted).toBeUndefined()
}

function assertDeepFrozenNullProto(value: unknown): void {
  if (value === null || typeof value !== 'object') return
  expect(Object.isFrozen(value)).toBe(true)
  if (!Array.isArray(value)) expect(Object.getPrototypeOf(value)).toBeNull()
  for (const member of Object.values(value)) assertDeepFrozenNullProto(member)
}

async function runVector(verifier: TokenVerifier, vector: TokenVector, ctx: VectorContext): Promise<void> {
  const token = await buildVectorToken(vector, ctx)
  const outcome = await verifier.verify(token, vector.verify).then(
    (verified) => ({ ok: true as const, verified }),
    (error: unknown) => ({ ok: false as const, error }),
  )
  if ('valid' in vector.expect) {
    if (!outcome.ok) throw new Error(`${vector.id}: expected valid, got ${TokenError.is(outcome.error) ? outcome.error.detail : String(outcome.error)}`)
    assertDeepFrozenNullProto(outcome.verified.claims)
    for (const [name, value] of Object.entries(vector.expect.claims ?? {})) expect(outcome.verified.claims[name]).toEqual(value)
    assertNoPollution()
    return
  }
  expect(outcome.ok, `${vector.id} must be rejected`).toBe(false)
  if (outcome.ok) return
  expect(TokenError.is(outcome.error)).toBe(true)
  const error = outcome.error as TokenError
  expect({ id: vector.id, reason: error.reason, detail: error.detail }).toMatchObject({ id: vector.id, reason: vector.expect.reason })
  // The message never carries the token or any part of it (style-anchors §3.6).
  for (const part of token.split('.')) if (part.length > 8) expect(error.message).not.toContain(part)
}

describe('token vectors: catalogue coverage', () => {
  it('loads one file per vector with unique ids', () => {
    expect(vectors.length).toBeGreaterThan(80)
    expect(new Set(vectors.map((v) => v.id)).size).toBe(vectors.length)
  })

  it('covers every locally producible attack of §11 #1–#44 (code tests cover #6, #42, #44)', () => {
    const covered = new Set(vectors.map((v) => v.catalogue).filter((n): n is number => n !== null))
    const expected = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 34, 35, 36, 37, 38, 39, 40, 41, 43, 57]
    expect([...covered].sort((a, b) => a - b)).toEqual(expected)
  })

  it('exercises every reject reason except issuer_unavailable (code tests)', () => {
    const reasons = new Set(vectors.flatMap((v) => ('reason' in v.expect ? [v.expect.reason] : [])))
    expect([...reasons].sort()).toEqual(tokenRejectReasons.filter((r) => r !== 'issuer_unavailable').sort())
  })
})

describe('token vectors: inline keys', () => {
  let ctx: VectorContext
  let verifier: TokenVerifier
  beforeAll(async () => {
    ctx = await createVectorContext()
    verifier = createTokenVerifier(vectorIssuerSpecs(ctx), { now: () => ctx.now })
  })
  afterAll(() => verifier.close())

  it.each(vectors.map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    await runVector(verifier, vector, ctx)
  })
})

describe('token vectors: discovery against fake issuers', () => {
  let ctx: VectorContext
  let verifier: TokenVerifier
  const issuers: FakeIssuer[] = []
  beforeAll(async () => {
    issuers.push(...(await Promise.all([startFakeIssuer(), startFakeIssuer(), startFakeIssuer()])))
    const [primary, rfc9068, other] = issuers as [FakeIssuer, FakeIssuer, FakeIssuer]
    ctx = await createVectorContext({ now: Date.now(), issuers: { primary: primary.keys, rfc9068: rfc9068.keys, other: other.keys } })
    const discovery = { kind: 'discovery' } as const
    verifier = createTokenVerifier(vectorIssuerSpecs(ctx, { primary: discovery, rfc9068: discovery, other: discovery }), { now: () => ctx.now })
    await verifier.warmUp()
    expect(verifier.health().map((h) => h.state)).toEqual(['ready', 'ready', 'ready'])
  })
  afterAll(async () => {
    verifier.close()
    await Promise.all(issuers.map((issuer) => issuer.close()))
  })

  it.each(vectors.map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    await runVector(verifier, vector, ctx)
  })

  it('fetched each discovery document and JWKS once despite the unknown-kid vectors (cooldown)', () => {
    for (const issuer of issuers) {
      expect(issuer.discoveryCount).toBe(1)
      expect(issuer.fetchCount).toBe(1)
    }
  })
})
