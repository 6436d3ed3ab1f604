import { SseFramer } from '../sse/framer.js'
import { parseSseEvent } from '../sse/parse-event.js'
import { DEMO_OTHER_SKILL, DEMO_SKILL } from './demo-config.js'

/**
 * The demo's sample CI job: what a release workflow would send to Claude through the gateway,
 * with its workload token as the API key. Plain `fetch` and the gateway's own SSE framer rather
 * than the official SDK, because the SDK is a devDependency and `skillgate demo` must run from
 * the installed package.
 */

export interface JobReply {
  readonly status: number
  readonly requestId: string | null
  readonly reviewId: string | null
  /** The error message of a refusal (Anthropic's error shape), or of an `event: error`. */
  readonly error: { readonly type: string; readonly message: string } | null
  /** Every text delta joined: what the job's user would read. */
  readonly text: string
}

export interface JobCallbacks {
  /** The response headers arrived (for a held call: the decision was taken). */
  readonly onResponse?: (status: number) => void
  /** A content block begins (its type and, for tools, name). */
  readonly onBlock?: (type: string, name: string | undefined) => void
  readonly onText?: (text: string) => void
  readonly signal?: AbortSignal
}

const betas = 'code-execution-2025-08-25,skills-2025-10-02'

/** A skills request: the container names the skill, and code execution runs it. */
export function skillRequest(skill: { type: string; id: string }, prompt: string): Record<string, unknown> {
  return {
    model: 'claude-sonnet-4-6',
    max_tokens: 1024,
    stream: true,
    container: { skills: [{ type: skill.type, skill_id: skill.id, version: 'latest' }] },
    tools: [{ type: 'code_execution_20250825', name: 'code_execution' }],
    messages: [{ role: 'user', content: prompt }],
  }
}

export const deniedRequest = () => skillRequest({ type: 'anthropic', id: DEMO_OTHER_SKILL }, 'Build a spreadsheet of this release’s changes.')
/** `MOCK:PII` makes the mock upstream answer with fake secrets, for the gateway to mask. */
export const releaseRequest = () => skillRequest(DEMO_SKILL, 'Draft the release deck from the customer escalations. MOCK:PII')

export async function callClaude(gatewayUrl: string, token: string, body: Record<string, unknown>, callbacks: JobCallbacks = {}): Promise<JobReply> {
  const res = await fetch(`${gatewayUrl}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'anthropic-version': '2023-06-01', 'anthropic-beta': betas, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(callbacks.signal ? { signal: callbacks.signal } : {}),
  })
  callbacks.onResponse?.(res.status)
  const ids = { requestId: res.headers.get('skillgate-request-id') ?? res.headers.get('request-id'), reviewId: res.headers.get('skillgate-review-id') }
  const type = res.headers.get('content-type') ?? ''
  if (!res.ok || !type.startsWith('text/event-stream')) {
    const parsed = (await res.json().catch(() => null)) as { error?: { type?: string; message?: string } } | null
    const error = parsed?.error ? { type: String(parsed.error.type), message: String(parsed.error.message) } : null
    return { status: res.status, ...ids, error, text: '' }
  }
  const streamed = await readStream(res, callbacks)
  return { status: res.status, ...ids, ...streamed }
}

async function readStream(res: Response, callbacks: JobCallbacks): Promise<Pick<JobReply, 'error' | 'text'>> {
  const framer = new SseFramer()
  let text = ''
  let error: JobReply['error'] = null
  const handle = (raw: Uint8Array) => {
    const event = parseSseEvent(raw)
    const data = safeJson(event.data)
    if (event.event === 'content_block_start') {
      const block = (data?.content_block ?? {}) as { type?: string; name?: string }
      callbacks.onBlock?.(String(block.type), block.name)
    } else if (event.event === 'content_block_delta') {
      const delta = (data?.delta ?? {}) as { type?: string; text?: string }
      if (delta.type === 'text_delta' && typeof delta.text === 'string') {
        text += delta.text
        callbacks.onText?.(delta.text)
      }
    } else if (event.event === 'error') {
      const e = (data?.error ?? {}) as { type?: string; message?: string }
      error = { type: String(e.type), message: String(e.message) }
    }
  }
  for await (const chunk of res.body ?? []) for (const raw of framer.push(chunk as Uint8Array)) handle(raw)
  const rest = framer.end()
  if (rest) handle(rest)
  return { error, text }
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
