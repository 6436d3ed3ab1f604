import type { Config } from '../config/load.js'
import { openStorage } from '../storage/open-storage.js'
import type { OpenStorageOptions, Storage, StorageHealth } from '../storage/ports.js'
import type { ErrorReports } from './error-reports.js'

/**
 * Opens the store and creates or upgrades its schema (the embedded SQLite default must work on a
 * fresh checkout). Every replica and worker opens its own; they agree through the store.
 */
export async function openStore(settings: Config['storage'], reports: ErrorReports): Promise<Storage> {
  const options: OpenStorageOptions = {
    writerLeaseMs: settings.writerLease,
    // Background failures (writer-lease renewal, idle PostgreSQL connections): logged and counted.
    onError: (op: string, error: Error) => reports.storage(error, { op }),
  }
  const storage = await openStorage(settings.url, options)
  await storage.migrate()
  return storage
}

/** Polls `storage.health()` for /readyz (a readiness probe must not wait on the store). */
export function watchStorageHealth(storage: Storage, reports: ErrorReports, intervalMs = 5_000): { readonly value: StorageHealth; stop(): void } {
  let value: StorageHealth = { ok: true }
  const timer = setInterval(() => {
    storage.health().then(
      (health) => (value = health),
      (error: unknown) => {
        reports.storage(error as Error, { op: 'health' })
        value = { ok: false, detail: (error as Error).message }
      },
    )
  }, intervalMs)
  timer.unref()
  return {
    get value() {
      return value
    },
    stop: () => clearInterval(timer),
  }
}
