import type { SinkSecret } from '../../audit/sinks/types.js'
import { revealSecret } from '../../audit/sinks/types.js'
import type { SlackBlock } from '../format-slack.js'

/**
 * The three Slack Web API methods skillgate calls with its bot token: `chat.postMessage` (a review
 * to decide), `chat.update` (the message shows who decided) and `chat.postEphemeral` (telling one
 * user why their click was refused). The base URL is configurable so tests talk to a local server.
 * Slack answers HTTP 200 with `{ok: false, error}` for most failures: both count as failures here.
 */

export interface SlackPost {
  readonly channel: string
  readonly text: string
  readonly blocks: readonly SlackBlock[]
}

export interface PostedMessage {
  readonly channel: string
  readonly ts: string
}

export interface SlackWebApi {
  postMessage(message: SlackPost): Promise<PostedMessage>
  update(at: PostedMessage, message: Omit<SlackPost, 'channel'>): Promise<void>
  postEphemeral(channel: string, user: string, text: string): Promise<void>
}

export interface SlackWebApiOptions {
  /** Default `https://slack.com/api/`. */
  readonly baseUrl: string
  readonly botToken: SinkSecret
  /** Per call; default 10 s. */
  readonly timeoutMs?: number | undefined
  readonly fetch?: typeof fetch | undefined
}

export class SlackApiError extends Error {
  constructor(method: string, detail: string) {
    // `detail` is Slack's error code (`channel_not_found`) or an HTTP status: never the token.
    super(`Slack ${method} failed: ${detail}`)
    this.name = 'SlackApiError'
  }
}

export function createSlackWebApi(options: SlackWebApiOptions): SlackWebApi {
  const base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`)
  const doFetch = options.fetch ?? fetch

  async function call(method: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await doFetch(new URL(method, base), {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${revealSecret(options.botToken)}` },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    }).catch((error: unknown) => {
      throw new SlackApiError(method, (error as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable')
    })
    if (!response.ok) throw new SlackApiError(method, `HTTP ${response.status}`)
    const reply = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined
    if (reply?.ok !== true) throw new SlackApiError(method, typeof reply?.error === 'string' ? reply.error.slice(0, 100) : 'malformed reply')
    return reply
  }

  return {
    async postMessage(message) {
      const reply = await call('chat.postMessage', { channel: message.channel, text: message.text, blocks: message.blocks })
      if (typeof reply.channel !== 'string' || typeof reply.ts !== 'string') throw new SlackApiError('chat.postMessage', 'reply without channel and ts')
      return { channel: reply.channel, ts: reply.ts }
    },
    async update(at, message) {
      await call('chat.update', { channel: at.channel, ts: at.ts, text: message.text, blocks: message.blocks })
    },
    async postEphemeral(channel, user, text) {
      await call('chat.postEphemeral', { channel, user, text })
    },
  }
}
