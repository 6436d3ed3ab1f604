import type { Logger } from 'pino'
import type { Counter } from 'prom-client'
import type { GatewayMetrics } from '../observability/metrics.js'

/**
 * The one way a failure nobody else would see — a timer, a background refresh, a delivery — is
 * reported: a log line an operator can search for, and a `skillgate_*_errors_total` counter they can
 * alert on (docs/metrics.md). Only `error.message` is logged: modules never put a secret in one.
 */
export function createErrorReports(metrics: GatewayMetrics, logger: Logger) {
  const report =
    <L extends string>(counter: Counter<L>, message: string) =>
    (error: Error, labels: Partial<Record<L, string>> = {}, fields: Readonly<Record<string, unknown>> = {}): void => {
      counter.inc(labels)
      const entry: Record<string, unknown> = { ...labels, ...fields, detail: error.message }
      logger.error(entry, message)
    }
  const errors = metrics.errors
  return {
    storage: report(errors.storage, 'storage background operation failed'),
    auditWrite: report(errors.audit, 'audit write failed'),
    auditHousekeeping: report(errors.audit, 'audit housekeeping failed'),
    auditSink: report(errors.auditSink, 'audit sink delivery failed'),
    auditTimestamp: report(errors.auditTimestamp, 'audit head timestamp failed; the head goes out without one'),
    notify: report(errors.notify, 'notification delivery failed'),
    secretFile: report(errors.secretFile, 'secret file re-read failed; the previous value stays in use'),
    revocationRefresh: report(errors.revocationRefresh, 'revocation list refresh failed'),
    approvals: report(errors.approvals, 'approvals housekeeping failed'),
    streamSlots: report(errors.streamSlots, 'stream slot housekeeping failed'),
    upstreamFederation: report(errors.upstreamFederation, 'upstream federation failed'),
  }
}

export type ErrorReports = ReturnType<typeof createErrorReports>
