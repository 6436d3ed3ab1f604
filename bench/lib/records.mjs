/**
 * Audit halves as the gateway writes them, for the store benchmarks (audit-store.mjs, wal-frames.mjs).
 */

/** A realistic opening: a CI job's streaming call with one tool (principals cycle over four). */
export function opening(id, i) {
  return {
    v: 1,
    id,
    start: new Date().toISOString(),
    principal: `spiffe://example.org/agent/bench-${i % 4}`,
    issuer: 'ci',
    sub: `repo:example/bench-${i % 4}:ref:refs/heads/main`,
    claims: { repository: `example/bench-${i % 4}`, ref: 'refs/heads/main', workflow: 'bench', run_id: 123456789 + i },
    rule: 'agents-can-use-claude',
    decision: 'allow',
    reasons: [{ code: 'rule-matched', detail: 'agents-can-use-claude' }],
    reviewId: null,
    endpoint: 'POST /v1/messages',
    model: 'claude-sonnet-4-5',
    skills: [],
    tools: ['get_weather'],
    containerId: null,
    clientSession: null,
    content: 'masked',
    request: {
      method: 'POST',
      path: '/v1/messages',
      bytes: 412,
      body: {
        model: 'claude-sonnet-4-5',
        max_tokens: 1024,
        stream: true,
        messages: [{ role: 'user', content: 'Summarise the deployment log below and list every failed step with its error message. [email]' }],
        tools: [{ name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      },
    },
    requestMaskHits: { email: 1 },
  }
}

const words = ['The', ' deployment', ' failed', ' at', ' step', ' three', ':', ' the', ' migration', ' timed', ' out', ' after', ' 30 s.']
/** Completions of an SSE reply of `eventCount` events (13: ~3 KB; 59: the realistic reply's length). */
export function completionOf(eventCount) {
  const deltaCount = Math.max(1, eventCount - 4)
  const deltas = Array.from({ length: deltaCount }, (_, i) => ({ t: 40 + i * 7, event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: words[i % words.length] } }) }))
  const events = [
    { t: 31, event: 'message_start', data: JSON.stringify({ type: 'message_start', message: { id: 'msg_01XFDUDYJgAACzvnptvVoYEL', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, usage: { input_tokens: 120, output_tokens: 1 } } }) },
    { t: 33, event: 'content_block_start', data: JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) },
    ...deltas,
    { t: 140, event: 'content_block_stop', data: JSON.stringify({ type: 'content_block_stop', index: 0 }) },
    { t: 141, event: 'message_delta', data: JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 23 } }) },
  ]
  const text = deltas.map((_, i) => words[i % words.length]).join('')
  return function completion() {
    const now = new Date().toISOString()
    return {
      v: 1,
      firstByte: now,
      end: now,
      status: 200,
      upstreamRequestId: 'req_011CSHoEeqs5C35K2UUqR7Fy',
      containerId: null,
      usage: { inputTokens: 120, outputTokens: 23, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
      latency: { totalMs: 142, firstByteMs: 31, upstreamMs: 140 },
      response: {
        kind: 'sse',
        contentType: 'text/event-stream',
        bytes: 2214,
        message: { id: 'msg_01XFDUDYJgAACzvnptvVoYEL', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text }], stop_reason: 'end_turn', usage: { input_tokens: 120, output_tokens: 23 } },
        events,
        truncated: false,
      },
      maskHits: {},
      outcome: 'completed',
      error: null,
    }
  }
}
