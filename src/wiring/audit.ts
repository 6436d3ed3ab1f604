import type { Logger } from 'pino'
import { HeadSigner } from '../audit/heads/index.js'
import { createAuditSink, type AuditSink } from '../audit/sinks/index.js'
import { RefusalAggregator } from '../audit/refusals.js'
import { AuditWriter } from '../audit/writer.js'
import { newRequestId } from '../observability/request-id.js'
import type { Config } from '../config/load.js'
import type { Storage } from '../storage/ports.js'
import { loadAuditSigning, type AuditSigningKeys } from './audit-signing.js'
import type { ErrorReports } from './error-reports.js'

/** The audit writer of a running gateway, with its housekeeping timers. */
export interface AuditRuntime {
  /** Undefined when `audit.insecureDisabled` is set. */
  readonly writer: AuditWriter | undefined
  /** Unauthenticated refusals past a per-address burst, one record per address, code and minute. */
  readonly refusals: RefusalAggregator | undefined
  /** `audit.signing` keys; undefined when heads are not signed. */
  readonly signing: AuditSigningKeys | undefined
  /** Stops housekeeping, flushes the writer, signs the shutdown head; the store stays open (its owner closes it). */
  close(): Promise<void>
}

const minute = 60_000

/**
 * Marks records left open by a crashed writer as interrupted and starts the audit writer with its
 * sinks. Retention runs hourly; interrupted-marking every minute, because a writer's lease only
 * expires some time after it died.
 */
export async function openAudit(storage: Storage, config: Config, logger: Logger, reports: ErrorReports): Promise<AuditRuntime> {
  const interrupted = await storage.audit.markInterrupted()
  if (interrupted > 0) logger.warn({ records: interrupted }, 'audit records left open by a stopped writer marked interrupted')
  if (config.audit.insecureDisabled) {
    logger.warn('audit.insecureDisabled is set: requests are NOT audited')
    return { writer: undefined, refusals: undefined, signing: undefined, close: async () => undefined }
  }
  const signing = await loadAuditSigning(config, logger)
  const sinks = auditSinks(config, reports)
  const heads = signing && openHeadSigner(storage, config, signing, sinks, reports)
  const writer = new AuditWriter(storage.audit, {
    durability: config.audit.durability,
    sinks,
    onError: (error, context) => reports.auditWrite(error, { op: context.op }, { recordId: context.id }),
    ...(heads ? { onCommitted: (receipt, op) => heads.committed(receipt, op) } : {}),
  })
  // The start head covers whatever a crashed predecessor committed after its last head.
  await heads?.start()
  const housekeeping = [
    setInterval(() => void markInterrupted(storage, logger, reports), minute),
    setInterval(() => void prune(storage, config.audit.retention, heads, logger, reports), 60 * minute),
  ]
  for (const timer of housekeeping) timer.unref()
  void prune(storage, config.audit.retention, heads, logger, reports)
  const refusals = new RefusalAggregator({
    record: (opening, completion) => writer.record(opening, completion),
    newId: () => newRequestId(),
    content: config.audit.content,
    onError: (error) => reports.auditWrite(error, { op: 'begin' }, { recordId: 'aggregated-refusals' }),
  })
  refusals.start()
  return {
    writer,
    refusals,
    signing,
    async close() {
      for (const timer of housekeeping) clearInterval(timer)
      // The last aggregates are records like any other: written before the flush and the shutdown head.
      await refusals.close()
      await writer.flush(10_000)
      // The shutdown head, before the sinks close.
      await heads?.close()
      await writer.close()
    },
  }
}

function openHeadSigner(storage: Storage, config: Config, signing: AuditSigningKeys, sinks: readonly AuditSink[], reports: ErrorReports): HeadSigner {
  const settings = config.audit.signing ?? { everyRecords: 1_000, every: minute }
  return new HeadSigner({
    key: signing.key,
    store: storage.audit,
    everyRecords: settings.everyRecords,
    everyMs: settings.every,
    now: () => new Date(),
    publish: (line) => {
      for (const sink of sinks) sink.publishHead(line)
    },
    onError: (error) => reports.auditHousekeeping(error, { op: 'sign_head' }),
    ...(signing.timestamp ? { timestamp: signing.timestamp, onTimestampError: (error: Error) => reports.auditTimestamp(error) } : {}),
  })
}

function auditSinks(config: Config, reports: ErrorReports): AuditSink[] {
  const tuning = {
    webhook: { onError: (error: Error) => reports.auditSink(error, { sink: 'webhook' }) },
    jsonl: { onError: (error: Error) => reports.auditSink(error, { sink: 'jsonl' }) },
  }
  return config.audit.sinks.map((sink, i) => {
    if (!('webhook' in sink)) return createAuditSink(sink, tuning)
    const secret = config.secrets.auditSinkSecrets[i]
    return createAuditSink({ webhook: { url: sink.webhook.url, ...(secret ? { secret } : {}) } }, tuning)
  })
}

async function markInterrupted(storage: Storage, logger: Logger, reports: ErrorReports): Promise<void> {
  try {
    const count = await storage.audit.markInterrupted()
    if (count > 0) logger.warn({ records: count }, 'audit records of a lost writer marked interrupted')
  } catch (error) {
    reports.auditHousekeeping(error as Error, { op: 'mark_interrupted' })
  }
}

async function prune(storage: Storage, retentionMs: number, heads: HeadSigner | undefined, logger: Logger, reports: ErrorReports): Promise<void> {
  try {
    const { removed, head } = await storage.audit.prune(new Date(Date.now() - retentionMs), { signCheckpoint: heads?.checkpointSigner() })
    if (head) heads?.published(head)
    if (removed > 0) logger.info({ removed }, 'audit retention: old records removed (checkpoint kept)')
  } catch (error) {
    reports.auditHousekeeping(error as Error, { op: 'prune' })
  }
}
