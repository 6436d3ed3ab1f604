import { monotonicFactory } from 'ulid'
import { buildCompletion, buildOpening } from '../../src/audit/record-builder.js'
import type { AuditCompletion, AuditOpening, AuditOutcome } from '../../src/audit/record.js'

/** Record halves for storage tests, built with the real builders. */

const nextId = monotonicFactory()

/** A controllable clock shared by a test and the stores it opens. */
export class TestClock {
  t: number
  constructor(start = Date.parse('2030-01-01T00:00:00.000Z')) {
    this.t = start
  }
  now = (): Date => new Date(this.t)
  advance(ms: number): void {
    this.t += ms
  }
}

export interface OpeningOptions {
  readonly id?: string
  readonly start?: Date
  readonly principal?: string
  readonly rule?: string
  readonly skills?: readonly string[]
  readonly decision?: 'allow' | 'deny' | 'approval_required'
  readonly clientSession?: string
  readonly endpoint?: string
}

export function opening(options: OpeningOptions = {}): AuditOpening {
  const start = options.start ?? new Date(Date.parse('2030-01-01T00:00:00.000Z'))
  return buildOpening({
    id: options.id ?? nextId(start.getTime()),
    start,
    identity: {
      issuerId: 'github',
      claims: { iss: 'https://token.actions.githubusercontent.com', sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', workflow: 'release', nested: { no: 1 } },
    },
    decision: {
      effect: options.decision ?? 'allow',
      rule: options.rule ?? 'release-notes',
      principal: options.principal ?? 'gha:1234567/42',
      reasons: [{ code: 'rule-matched', detail: 'release-notes' }, { code: 'model-granted' }],
    },
    endpoint: options.endpoint ?? 'messages',
    method: 'POST',
    path: '/v1/messages',
    model: 'claude-sonnet-4-5',
    skills: options.skills ?? ['generate-release-notes'],
    tools: ['code_execution_20250825'],
    ...(options.clientSession === undefined ? {} : { clientSession: options.clientSession }),
    requestBytes: 120,
    requestBody: { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'mail [REDACTED:email]' }] },
    requestMaskHits: { email: 1 },
    content: 'masked',
  })
}

export function completion(start: Date, outcome: AuditOutcome = 'completed', text = 'the answer'): AuditCompletion {
  return buildCompletion({
    start,
    firstByteAt: new Date(start.getTime() + 120),
    end: new Date(start.getTime() + 900),
    status: outcome === 'completed' ? 200 : outcome === 'denied' ? 403 : 502,
    upstreamRequestId: 'req_011CXYZ',
    usage: { inputTokens: 12, outputTokens: 34, cacheCreationInputTokens: 0, cacheReadInputTokens: 5 },
    upstreamMs: 110,
    response: {
      kind: 'sse',
      contentType: 'text/event-stream',
      bytes: 400,
      message: { type: 'message', role: 'assistant', content: [{ type: 'text', text }] },
      events: [
        { t: 120, event: 'message_start', data: '{"type":"message_start"}' },
        { t: 300, event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', delta: { type: 'text_delta', text } }) },
      ],
      truncated: false,
    },
    maskHits: { email: 2 },
    outcome,
    content: 'masked',
  })
}
