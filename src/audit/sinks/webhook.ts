import type { AuditHeadLine } from '../heads/head.js'
import type { AuditRecord } from '../record.js'
import type { AuditSink, AuditSinkStats } from './types.js'
import { WebhookChannel, type WebhookChannelOptions } from './webhook-channel.js'

/**
 * Delivers each record as one JSON POST, in order, signed with HMAC-SHA256 when a secret is set,
 * with the retries and the bounded queue of `WebhookChannel`: when a receiver is down longer than
 * the queue lasts, new records are dropped and counted rather than held without bound (the store
 * keeps them; `audit export` can backfill).
 */
export type WebhookSinkOptions = Omit<WebhookChannelOptions, 'userAgent'>

export function createWebhookSink(options: WebhookSinkOptions): AuditSink {
  const channel = new WebhookChannel({ ...options, userAgent: 'skillgate-audit' })
  return {
    name: channel.name,
    publish: (record: AuditRecord) => channel.send({ id: record.id, event: 'audit.record', body: JSON.stringify(record) }),
    // The JWS signature part is unique per head: a stable delivery id for de-duplication.
    publishHead: (head: AuditHeadLine) => channel.send({ id: `head-${head.jws.slice(head.jws.lastIndexOf('.') + 1, head.jws.lastIndexOf('.') + 27)}`, event: 'audit.head', body: JSON.stringify(head) }),
    flush: () => channel.flush(),
    close: () => channel.close(),
    stats: (): AuditSinkStats => channel.stats(),
  }
}
