import type { SlackApp } from '../admin/index.js'
import type { Config } from '../config/load.js'
import type { SlackApproverConfig } from '../config/schema.js'
import { createNotifier, createSlackWebApi, ReplayGuard, SlackApprovalChannel, slackSignatureWindowSeconds, type Notifier, type NotifyTarget, type PostedMessage } from '../notify/index.js'
import type { ReplayStore, ReviewStore } from '../storage/ports.js'
import type { ErrorReports } from './error-reports.js'

/**
 * The notification channels of `notify:` (restart-only) with their resolved secrets: webhooks, and
 * Slack apps whose review messages carry Approve/Deny buttons (their clicks come back through
 * `POST /admin/slack/interactions`, which gets `slackApps`).
 */
export function openNotifier(config: Config, reports: ErrorReports, store: { readonly replay: ReplayStore; readonly reviews: ReviewStore }): { notifier: Notifier; slackApps: readonly SlackApp[] } {
  const targets: NotifyTarget[] = []
  const slackApps: SlackApp[] = []
  config.notify.forEach((entry, i) => {
    if ('webhook' in entry) {
      const secret = config.secrets.notifySecrets[i]
      targets.push({ webhook: { url: entry.webhook.url, ...(entry.webhook.format ? { format: entry.webhook.format } : {}), ...(secret ? { secret } : {}) } })
      return
    }
    const secrets = config.secrets.notifySlack[i]
    if (secrets === undefined) throw new TypeError(`notify[${i}].slack: secrets were not resolved`)
    const api = createSlackWebApi({ baseUrl: entry.slack.apiUrl, botToken: secrets.botToken })
    const target = `slack:${entry.slack.channel}`
    const directory = { save: (reviewId: string, at: PostedMessage) => store.reviews.saveMessage(reviewId, target, at), find: (reviewId: string) => store.reviews.findMessage(reviewId, target) }
    const channel = new SlackApprovalChannel({ channel: entry.slack.channel, api, directory, onError: (error) => reports.notify(error) })
    targets.push({ slack: channel })
    slackApps.push({ signingSecret: secrets.signingSecret, approvers: approverMap(entry.slack.approvers), channel, api, replays: sharedReplayGuard(store.replay, `slack:notify[${i}]`) })
  })
  return { notifier: createNotifier(targets, { webhook: { onError: (error) => reports.notify(error) } }), slackApps }
}

function approverMap(approvers: Readonly<Record<string, SlackApproverConfig>>) {
  return new Map(Object.entries(approvers).map(([user, a]) => [user, { ...a, roles: [...a.roles] }]))
}

/**
 * A Slack click is accepted once across every replica: the process's own guard refuses a local
 * repeat without a query, and the store's `useOnce` (atomic across processes) decides the rest. The
 * entry outlives the signature window, after which the timestamp check refuses the request anyway.
 */
function sharedReplayGuard(replay: ReplayStore, issuer: string): SlackApp['replays'] {
  const local = new ReplayGuard()
  return {
    async firstUse(signature, nowSeconds) {
      if (!local.firstUse(signature, nowSeconds)) return false
      return replay.useOnce(issuer, signature, new Date((nowSeconds + slackSignatureWindowSeconds * 2) * 1000))
    },
  }
}
