import type { ChannelStats } from '../../audit/sinks/webhook-channel.js'
import type { FormatContext, NotificationEvent } from '../events.js'
import { formatSlack } from '../format-slack.js'
import { approvalRequest, decidedMessage } from './messages.js'
import type { PostedMessage, SlackWebApi } from './web-api.js'

/**
 * A Slack channel that approvers work in: a new review is posted with Approve/Deny buttons through
 * the bot token, and the same message is updated when the review is decided (in Slack or in the
 * console) or expires. Other events are posted as plain messages. Like every notification this is
 * a courtesy copy: calls run one at a time off the request path, a failure is reported and dropped,
 * and the queue is bounded.
 *
 * Where a review's message is, is kept in this process (bounded, oldest forgotten first) and, with
 * a `directory`, in the store, so a replica that did not post it (a console decision there, an
 * expiry it noticed, a restart) still updates the message instead of posting a new one.
 */
export interface SlackChannelOptions {
  /** Channel id (`C…`) or name the bot is a member of. */
  readonly channel: string
  readonly api: SlackWebApi
  readonly onError?: ((error: Error) => void) | undefined
  /** Calls waiting before new ones are dropped; default 1 000. */
  readonly queueSize?: number | undefined
  /** Review messages remembered for updates; default 10 000. */
  readonly remember?: number | undefined
  /** Where messages are kept for every replica (the store); without it only this process knows. */
  readonly directory?: MessageDirectory | undefined
}

/** Shared memory of where each review's message was posted. */
export interface MessageDirectory {
  save(reviewId: string, at: PostedMessage): Promise<void>
  find(reviewId: string): Promise<PostedMessage | undefined>
}

export class SlackApprovalChannel {
  readonly name: string
  readonly #options: SlackChannelOptions
  readonly #messages = new Map<string, PostedMessage>()
  readonly #counts = { delivered: 0, dropped: 0, failed: 0, retries: 0 }
  #queued = 0
  #tail: Promise<void> = Promise.resolve()

  constructor(options: SlackChannelOptions) {
    this.#options = options
    this.name = `slack:${options.channel}`
  }

  send(event: NotificationEvent, ctx: FormatContext): void {
    if (this.#queued >= (this.#options.queueSize ?? 1_000)) {
      this.#counts.dropped += 1
      return
    }
    this.#queued += 1
    this.#tail = this.#tail.then(() => this.#deliver(event, ctx)).finally(() => (this.#queued -= 1))
  }

  /** Where a review's message is, learnt from a click on it (possibly posted by another replica). */
  remember(reviewId: string, at: PostedMessage): void {
    this.#keepLocally(reviewId, at)
    this.#options.directory?.save(reviewId, at).catch((error: unknown) => this.#options.onError?.(error as Error))
  }

  #keepLocally(reviewId: string, at: PostedMessage): void {
    this.#messages.delete(reviewId)
    this.#messages.set(reviewId, at)
    const limit = this.#options.remember ?? 10_000
    for (const oldest of this.#messages.keys()) {
      if (this.#messages.size <= limit) break
      this.#messages.delete(oldest)
    }
  }

  async flush(): Promise<void> {
    await this.#tail
  }

  stats(): ChannelStats {
    return { queued: this.#queued, ...this.#counts }
  }

  async #deliver(event: NotificationEvent, ctx: FormatContext): Promise<void> {
    try {
      await this.#call(event, ctx)
      this.#counts.delivered += 1
    } catch (error) {
      this.#counts.failed += 1
      this.#options.onError?.(error as Error)
    }
  }

  async #call(event: NotificationEvent, ctx: FormatContext): Promise<void> {
    const { api, channel } = this.#options
    if (event.type === 'review.created') {
      this.remember(event.review.id, await api.postMessage({ channel, ...approvalRequest(event.review, ctx) }))
      return
    }
    const update = event.type === 'review.decided' ? decidedMessage(event.review, event.grant, event.approverName) : event.type === 'review.expired' ? formatSlack(event, ctx) : undefined
    const at = event.type === 'review.decided' || event.type === 'review.expired' ? await this.#whereIs(event.review.id) : undefined
    if (update !== undefined && at !== undefined) {
      await api.update(at, update)
      return
    }
    await api.postMessage({ channel, ...formatSlack(event, ctx) })
  }

  async #whereIs(reviewId: string): Promise<PostedMessage | undefined> {
    const known = this.#messages.get(reviewId)
    if (known !== undefined || this.#options.directory === undefined) return known
    const found = await this.#options.directory.find(reviewId)
    if (found !== undefined) this.#keepLocally(reviewId, found)
    return found
  }
}
