import { describe, expect, it } from 'vitest'
import { buildCompletion, buildOpening, selectClaims, usageFromAnthropic, validateCompletion, validateOpening } from '../../src/audit/record-builder.js'
import { assembleRecord } from '../../src/audit/record.js'

const base = {
  id: '01JB7Z5Q9W3Y4X2V1T0S9R8Q7P',
  start: new Date('2030-01-01T00:00:00.000Z'),
  identity: { issuerId: 'github', claims: { sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', email: 'dev@acme.example', run_id: 7, aud: ['a', 'b'] } },
  decision: { effect: 'allow' as const, rule: 'release-notes', principal: 'gha:1/2', reasons: [{ code: 'rule-matched', detail: 'release-notes' }] },
  endpoint: 'messages',
  method: 'POST',
  path: '/v1/messages',
  model: 'claude-sonnet-4-5',
  skills: ['generate-release-notes'],
  requestBytes: 42,
  requestBody: { messages: [] },
}

describe('record builders', () => {
  it('builds an opening from the verified token and the decision, keeping only scalar selected claims', () => {
    const opening = buildOpening({ ...base, content: 'masked' })
    expect(opening).toMatchObject({
      v: 1,
      id: base.id,
      start: '2030-01-01T00:00:00.000Z',
      principal: 'gha:1/2',
      issuer: 'github',
      sub: 'repo:acme/app:ref:refs/heads/main',
      claims: { repository: 'acme/app', run_id: 7 },
      rule: 'release-notes',
      decision: 'allow',
      reviewId: null,
      tools: [],
      containerId: null,
      request: { method: 'POST', path: '/v1/messages', bytes: 42, body: { messages: [] } },
    })
    expect(opening.claims).not.toHaveProperty('email')
    expect(opening.claims).not.toHaveProperty('aud')
    expect(validateOpening(opening)).toEqual([])
  })

  it('keeps no bodies in metadata mode', () => {
    const opening = buildOpening({ ...base, content: 'metadata' })
    expect(opening.request.body).toBeNull()
    const completion = buildCompletion({
      start: base.start,
      end: new Date('2030-01-01T00:00:01.000Z'),
      response: { kind: 'json', contentType: 'application/json', bytes: 10, body: { secret: 'x' } },
      outcome: 'completed',
      content: 'metadata',
    })
    expect(completion.response).toEqual({ kind: 'opaque', contentType: 'application/json', bytes: 10 })
  })

  it('computes latencies and maps Anthropic usage', () => {
    const completion = buildCompletion({
      start: base.start,
      firstByteAt: new Date('2030-01-01T00:00:00.250Z'),
      end: new Date('2030-01-01T00:00:02.000Z'),
      upstreamMs: 200.4,
      status: 200,
      usage: usageFromAnthropic({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 3 }) ?? undefined,
      outcome: 'completed',
      content: 'masked',
    })
    expect(completion.latency).toEqual({ totalMs: 2000, firstByteMs: 250, upstreamMs: 200 })
    expect(completion.usage).toEqual({ inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 0, cacheReadInputTokens: 3 })
    expect(validateCompletion(completion)).toEqual([])
    expect(validateCompletion({ ...completion, end: 'yesterday' })).toEqual(['end must be an ISO-8601 time'])
  })

  it('assembles an open record and a closed one', () => {
    const opening = buildOpening({ ...base, decision: { effect: 'approval_required', reasons: [] }, reviewId: 'rev_1', content: 'masked' })
    const pos = { seq: 1, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64) }
    expect(assembleRecord(opening, null, { open: pos, close: null })).toMatchObject({ outcome: 'open', hash: pos.hash, prevHash: pos.prevHash, principal: null, decision: 'approval_required', reviewId: 'rev_1' })
    const completion = buildCompletion({ start: base.start, end: base.start, outcome: 'denied', status: 403, error: 'GW_AUTHZ_APPROVAL_REQUIRED', content: 'masked' })
    const close = { seq: 2, prevHash: pos.hash, hash: 'c'.repeat(64) }
    expect(assembleRecord(opening, completion, { open: pos, close })).toMatchObject({ outcome: 'denied', status: 403, hash: close.hash, error: 'GW_AUTHZ_APPROVAL_REQUIRED' })
  })

  it('selects only own properties', () => {
    const claims = Object.create({ inherited: 'x' }) as Record<string, unknown>
    claims.own = 'y'
    expect(selectClaims(claims, ['inherited', 'own'])).toEqual({ own: 'y' })
  })
})
