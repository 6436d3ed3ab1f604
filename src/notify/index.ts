/** Notifications to webhooks (SPEC §2 `notify:`): new review, decision, expiry, revocation. */
export type { FormatContext, NotificationEvent, NotificationType, RevocationNotice } from './events.js'
export { formatJson, reviewView } from './format-json.js'
export { formatSlack, type SlackBlock, type SlackMessage } from './format-slack.js'
export { createNotifier, type Notifier, type NotifierOptions, type NotifyTarget } from './notifier.js'
export { WebhookChannel, type ChannelStats, type Delivery, type WebhookChannelOptions } from '../audit/sinks/webhook-channel.js'
