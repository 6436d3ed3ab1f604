import type { Logger } from 'pino'
import type { AnonymousGate } from '../http/unauthenticated-cap.js'
import type { RefusalAggregator } from '../audit/refusals.js'
import type { SlackApp } from '../admin/index.js'
import type { AuditWriter } from '../audit/writer.js'
import type { Config } from '../config/load.js'
import type { GatewayTokens } from '../identity/gateway-token.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import { createLimiter, type Limiter } from '../limits/index.js'
import { ReviewWatcher } from '../approvals/index.js'
import type { Notifier } from '../notify/index.js'
import type { CredentialProvider } from '../stages/inject-credential.js'
import type { Storage, StorageHealth } from '../storage/ports.js'
import type { MintedTokenStore } from '../storage/ports-minted.js'
import type { UpstreamClient } from '../upstream/client.js'
import { openAudit } from './audit.js'
import type { AuditSigningKeys } from './audit-signing.js'
import type { ErrorReports } from './error-reports.js'
import { openRevocations } from './identity.js'
import { openNotifier } from './notify.js'
import { openStore, watchStorageHealth } from './storage.js'
import { openUpstreamClient, openUpstreamCredential } from './upstream.js'

/** Parts built once at start-up and kept across reloads (restart-only sections, shared state). */
export interface SharedParts {
  readonly storage: Storage
  /** Undefined only when `audit.insecureDisabled` is set. */
  readonly audit: AuditWriter | undefined
  /** Anonymous refusals past a per-address burst, aggregated per minute (undefined with the audit off). */
  readonly refusals: RefusalAggregator | undefined
  /** `audit.signing` keys (the JWKS of /.well-known/skillgate-audit-keys); undefined when heads are not signed. */
  readonly auditSigning: AuditSigningKeys | undefined
  readonly revocations: RevocationCache
  readonly notifier: Notifier
  /** The Slack apps of `notify:`, for `POST /admin/slack/interactions`. */
  readonly slackApps: readonly SlackApp[]
  readonly gatewayTokens: GatewayTokens
  /** The public listener's per-address cap on unauthenticated refusals (shared with the token endpoint). */
  readonly anonymous?: AnonymousGate | undefined
  /** Source claims of minted gateway tokens, read on every `/v1` call with one (issue #13). */
  readonly minted: MintedTokenStore
  readonly credential: CredentialProvider
  readonly upstream: UpstreamClient
  readonly limiter: Limiter
  /** Held requests' view of review decisions: one per process, outliving every reload (issue #14). */
  readonly reviewWatcher: ReviewWatcher
  readonly logger: Logger
  readonly reports: ErrorReports
}

/** The shared parts that need no listen URL, with their health checks and their ordered shutdown. */
export interface OpenedParts extends Omit<SharedParts, 'gatewayTokens' | 'anonymous'> {
  readonly storageHealth: { readonly value: StorageHealth }
  readonly credentialHealth: () => StorageHealth
  /** Stops the background refreshes: first step of a shutdown, before the drain. */
  stopRefreshing(): void
  /** After the drain: flushes the audit, then closes notifier, store, pool and credential. */
  close(): Promise<void>
}

/** Opens, in dependency order, everything a configuration's generation shares with the next one. */
export async function openSharedParts(config: Config, logger: Logger, reports: ErrorReports): Promise<OpenedParts> {
  const upstream = openUpstreamClient(config.upstream)
  const storage = await openStore(config.storage, reports)
  const audit = await openAudit(storage, config, logger, reports)
  const revocations = await openRevocations(storage, reports)
  const { notifier, slackApps } = openNotifier(config, reports, storage)
  const limiter = createLimiter({ counters: storage.counters, onError: (error) => reports.streamSlots(error) })
  const credential = await openUpstreamCredential(config, logger, reports)
  const storageHealth = watchStorageHealth(storage, reports)
  const reviewWatcher = new ReviewWatcher(storage.reviews, { onError: (error) => reports.approvals(error) })
  return {
    reviewWatcher,
    // In the store: a token minted by one replica or worker is honoured by every other one.
    minted: storage.minted,
    storage, audit: audit.writer, refusals: audit.refusals, revocations, notifier, slackApps, credential: credential.provider, upstream, limiter, logger, reports,
    storageHealth,
    auditSigning: audit.signing,
    credentialHealth: () => credential.health(),
    stopRefreshing() {
      storageHealth.stop()
      revocations.close()
    },
    async close() {
      // After the drain: requests held for a decision were still listening until now.
      reviewWatcher.close()
      await notifier.close()
      await audit.close()
      await storage.close()
      await upstream.close()
      credential.close()
    },
  }
}
