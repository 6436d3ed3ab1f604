import type { SlackApp } from '../admin/index.js'
import type { Config } from '../config/load.js'
import type { SlackApproverConfig } from '../config/schema.js'
import { createNotifier, createSlackWebApi, ReplayGuard, SlackApprovalChannel, type Notifier, type NotifyTarget } from '../notify/index.js'
import type { ErrorReports } from './error-reports.js'

/**
 * The notification channels of `notify:` (restart-only) with their resolved secrets: webhooks, and
 * Slack apps whose review messages carry Approve/Deny buttons (their clicks come back through
 * `POST /admin/slack/interactions`, which gets `slackApps`).
 */
export function openNotifier(config: Config, reports: ErrorReports): { notifier: Notifier; slackApps: readonly SlackApp[] } {
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
    const channel = new SlackApprovalChannel({ channel: entry.slack.channel, api, onError: (error) => reports.notify(error) })
    targets.push({ slack: channel })
    slackApps.push({ signingSecret: secrets.signingSecret, approvers: approverMap(entry.slack.approvers), channel, api, replays: new ReplayGuard() })
  })
  return { notifier: createNotifier(targets, { webhook: { onError: (error) => reports.notify(error) } }), slackApps }
}

function approverMap(approvers: Readonly<Record<string, SlackApproverConfig>>) {
  return new Map(Object.entries(approvers).map(([user, a]) => [user, { ...a, roles: [...a.roles] }]))
}
