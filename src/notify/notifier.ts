import { ulid } from 'ulid'
import type { SinkSecret } from '../audit/sinks/types.js'
import type { FormatContext, NotificationEvent, NotificationType } from './events.js'
import { formatJson } from './format-json.js'
import { formatSlack } from './format-slack.js'
import { WebhookChannel, type ChannelStats, type WebhookChannelOptions } from '../audit/sinks/webhook-channel.js'
import type { SlackApprovalChannel } from './slack/channel.js'

/** One entry of `notify:` (SPEC §2) with its secret already resolved by the config layer. */
export type NotifyTarget =
  | {
      readonly webhook: {
        readonly url: string
        /** Default `json`. */
        readonly format?: 'json' | 'slack' | undefined
        readonly secret?: SinkSecret | undefined
      }
    }
  /** A Slack app channel (bot token): reviews with Approve/Deny buttons, updated when decided. */
  | { readonly slack: SlackApprovalChannel }

export interface NotifierOptions {
  /** The gateway's public base URL, for console links in messages. */
  readonly consoleUrl?: string | undefined
  /** Only these event types are sent; default all. */
  readonly events?: readonly NotificationType[] | undefined
  /** Queue, retry and timeout tuning shared by every channel; injected fetch for tests. */
  readonly webhook?: Omit<WebhookChannelOptions, 'url' | 'secret'> | undefined
  /** For tests: the notification id. */
  readonly newId?: (() => string) | undefined
}

export interface Notifier {
  /** Formats the event once per format and enqueues it on every channel; returns at once, never throws. */
  publish(event: NotificationEvent): void
  flush(): Promise<void>
  close(): Promise<void>
  /** Per channel, by name (`webhook:<host>`; the URL path of a Slack webhook is a secret and never shown). */
  stats(): Array<{ readonly name: string; readonly format: 'json' | 'slack' | 'slack-app' } & ChannelStats>
}

/**
 * Notifications are a courtesy copy, never part of a decision: a slow or broken receiver delays
 * nothing and loses at most what its bounded queue cannot hold (counted as `dropped`).
 */
export function createNotifier(targets: readonly NotifyTarget[], options: NotifierOptions = {}): Notifier {
  const channels = targets.flatMap((target) =>
    'webhook' in target
      ? [{ format: target.webhook.format ?? 'json', channel: new WebhookChannel({ userAgent: 'skillgate-notify', ...options.webhook, url: target.webhook.url, secret: target.webhook.secret }) }]
      : [],
  )
  const apps = targets.flatMap((target) => ('slack' in target ? [target.slack] : []))
  const wanted = options.events === undefined ? undefined : new Set(options.events)
  const newId = options.newId ?? (() => `ntf_${ulid()}`)

  return {
    publish(event) {
      if (channels.length + apps.length === 0 || (wanted !== undefined && !wanted.has(event.type))) return
      const ctx: FormatContext = { id: newId(), consoleUrl: options.consoleUrl }
      for (const app of apps) app.send(event, ctx)
      const bodies = new Map<'json' | 'slack', string>()
      for (const { format, channel } of channels) {
        let body = bodies.get(format)
        if (body === undefined) bodies.set(format, (body = format === 'slack' ? JSON.stringify(formatSlack(event, ctx)) : formatJson(event, ctx)))
        channel.send({ id: ctx.id, event: event.type, body })
      }
    },
    async flush() {
      await Promise.all([...channels.map(({ channel }) => channel.flush()), ...apps.map((app) => app.flush())])
    },
    async close() {
      await Promise.all([...channels.map(({ channel }) => channel.close()), ...apps.map((app) => app.flush())])
    },
    stats() {
      return [
        ...channels.map(({ format, channel }) => ({ name: channel.name, format, ...channel.stats() })),
        ...apps.map((app) => ({ name: app.name, format: 'slack-app' as const, ...app.stats() })),
      ]
    },
  }
}
