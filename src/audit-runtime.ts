import type { Logger } from 'pino'
import { createAuditSink } from './audit/sinks/index.js'
import { AuditWriter } from './audit/writer.js'
import type { Config } from './config/load.js'
import { openStorage } from './storage/open-storage.js'
import type { Storage } from './storage/ports.js'

/** The store and the audit writer of a running gateway, with the housekeeping timers. */
export interface AuditRuntime {
  readonly storage: Storage
  /** Undefined when `audit.insecureDisabled` is set. */
  readonly writer: AuditWriter | undefined
  close(): Promise<void>
}

const minute = 60_000

/**
 * Opens the store (creating or upgrading its schema: the embedded SQLite default must work on a
 * fresh checkout), marks records left open by a crashed writer as interrupted, and starts the
 * audit writer with its sinks. Retention runs hourly; interrupted-marking every minute, because a
 * writer's lease only expires some time after it died.
 */
export async function openAuditRuntime(config: Config, logger: Logger): Promise<AuditRuntime> {
  const storage = await openStorage(config.storage.url, { writerLeaseMs: config.storage.writerLease })
  await storage.migrate()
  const interrupted = await storage.audit.markInterrupted()
  if (interrupted > 0) logger.warn({ records: interrupted }, 'audit records left open by a stopped writer marked interrupted')
  if (config.audit.insecureDisabled) {
    logger.warn('audit.insecureDisabled is set: requests are NOT audited')
    return { storage, writer: undefined, close: () => storage.close() }
  }
  const sinks = config.audit.sinks.map((sink, i) => {
    if (!('webhook' in sink)) return createAuditSink(sink)
    const secret = config.secrets.auditSinkSecrets[i]
    return createAuditSink({ webhook: { url: sink.webhook.url, ...(secret ? { secret } : {}) } })
  })
  const writer = new AuditWriter(storage.audit, {
    durability: config.audit.durability,
    sinks,
    onError: (error, context) => logger.error({ op: context.op, recordId: context.id, detail: error.message }, 'audit write failed'),
  })
  const housekeeping = [
    setInterval(() => void markInterrupted(storage, logger), minute),
    setInterval(() => void prune(storage, config.audit.retention, logger), 60 * minute),
  ]
  for (const timer of housekeeping) timer.unref()
  void prune(storage, config.audit.retention, logger)
  return {
    storage,
    writer,
    async close() {
      for (const timer of housekeeping) clearInterval(timer)
      await writer.close()
      await storage.close()
    },
  }
}

async function markInterrupted(storage: Storage, logger: Logger): Promise<void> {
  try {
    const count = await storage.audit.markInterrupted()
    if (count > 0) logger.warn({ records: count }, 'audit records of a lost writer marked interrupted')
  } catch (error) {
    logger.error({ detail: (error as Error).message }, 'marking interrupted audit records failed')
  }
}

async function prune(storage: Storage, retentionMs: number, logger: Logger): Promise<void> {
  try {
    const { removed } = await storage.audit.prune(new Date(Date.now() - retentionMs))
    if (removed > 0) logger.info({ removed }, 'audit retention: old records removed (checkpoint kept)')
  } catch (error) {
    logger.error({ detail: (error as Error).message }, 'audit retention failed')
  }
}
