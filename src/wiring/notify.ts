import type { Config } from '../config/load.js'
import { createNotifier, type Notifier } from '../notify/index.js'
import type { ErrorReports } from './error-reports.js'

/** The notification webhooks of `notify:` (restart-only), with their resolved signing secrets. */
export function openNotifier(config: Config, reports: ErrorReports): Notifier {
  const targets = config.notify.map((n, i) => {
    const secret = config.secrets.notifySecrets[i]
    return { webhook: { url: n.webhook.url, ...(n.webhook.format ? { format: n.webhook.format } : {}), ...(secret ? { secret } : {}) } }
  })
  return createNotifier(targets, { webhook: { onError: (error) => reports.notify(error) } })
}
