import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AdminApi } from '../admin/index.js'
import { createApprovals, type Approvals } from '../approvals/index.js'
import type { Config } from '../config/load.js'
import type { IssuerHealth, TokenVerifier } from '../identity/index.js'
import { openCapabilities, type Capabilities } from '../mcp/capability.js'
import { buildPipeline } from '../pipeline/index.js'
import type { Stage } from '../pipeline/stage.js'
import type { Policy } from '../policy/compile.js'
import { buildMcp, type McpHandlers } from '../mcp/index.js'
import { buildAdmin } from './admin.js'
import { buildExchangeHandler } from './exchange.js'
import { buildAdminVerifier, buildWorkloadIdentity } from './identity.js'
import type { CompiledRules } from './policy-and-masking.js'
import type { SharedParts } from './shared.js'
import { credentialByRule, openRuleCredentials } from './upstream.js'

/**
 * Everything derived from one configuration's issuers, rules, skills and masking: what a reload
 * replaces as a whole. Requests look it up once, when they start, and keep it until they end.
 */
export interface Generation {
  readonly config: Config
  readonly policy: Policy
  readonly verifier: TokenVerifier
  readonly issuersHealth: () => readonly IssuerHealth[]
  readonly approvals: Approvals
  readonly admin: AdminApi
  /** `POST /v1/oauth/token`. */
  readonly exchange: (req: IncomingMessage, res: ServerResponse) => Promise<void>
  /** `/mcp/{id}` and its resource metadata (docs/mcp.md). */
  readonly mcp: McpHandlers
  /** The `/v1/*` stage list (docs/pipeline.md). */
  readonly pipeline: readonly Stage[]
  /** MCP connector capabilities (`mcp.publicUrl`); `/mcp/{id}` takes `capabilities.authenticator()`. */
  readonly capabilities: Capabilities | undefined
  /** Stops this configuration's timers and watchers (key-set refreshes, approvals sweeps, token files). */
  close(): void
}

/** Builds a configuration's parts around its already compiled rules; the key sets are fetched once here. */
export async function buildGeneration(config: Config, rules: CompiledRules, shared: SharedParts): Promise<Generation> {
  const { policy, masking } = rules
  // Built in order; a part that fails closes the ones before it, so a refused reload leaves no timers behind.
  const opened: Array<{ close(): void }> = []
  const keep = <T extends { close(): void }>(part: T): T => (opened.push(part), part)
  try {
    const identity = await buildWorkloadIdentity(config, shared.gatewayTokens)
    keep(identity.verifier)
    const adminVerifier = await buildAdminVerifier(config)
    if (adminVerifier) keep(adminVerifier)
    const approvals = keep(
      createApprovals({
        reviews: shared.storage.reviews,
        grants: shared.storage.grants,
        rules: config.rules,
        watcher: shared.reviewWatcher,
        onEvent: (event) => shared.notifier.publish(event),
        onError: (error) => shared.reports.approvals(error),
      }),
    )
    const admin = keep(buildAdmin({ ...shared, config, policy, approvals, humans: adminVerifier, issuersHealth: identity.health }))
    const exchange = await buildExchangeHandler({ ...shared, config, verifier: identity.verifier, policy })
    const ruleCredentials = keep(await openRuleCredentials(config, shared.logger, shared.reports))
    const credential = credentialByRule(shared.credential, ruleCredentials.byRule)
    const capabilities = capabilitiesFor(config, shared)
    const pipeline = buildPipeline({ ...shared, credential, owners: shared.storage.owners, verifier: identity.verifier, policy, masking, approvals, capabilities }, config)
    // Capability tokens first: they carry their own prefix, so the workload-token authenticator never sees them.
    const mcp = buildMcp(config, {
      ...shared,
      verifier: identity.verifier,
      policy,
      masking,
      approvals,
      authenticators: capabilities === undefined ? [] : [capabilities.authenticator()],
      onError: (error) => shared.reports.auditWrite(error),
    })
    return {
      config,
      mcp,
      policy,
      verifier: identity.verifier,
      issuersHealth: identity.health,
      approvals,
      admin,
      exchange,
      pipeline,
      capabilities,
      close: () => opened.forEach((part) => part.close()),
    }
  } catch (error) {
    opened.forEach((part) => part.close())
    throw error
  }
}

/** One per process and public URL, kept across reloads: its list of ended capabilities must outlive a generation. */
const openedCapabilities = new WeakMap<SharedParts, Map<string, Capabilities>>()

/** Signed with the gateway-token keys and revoked in the shared revocation store (src/mcp/capability.ts). */
function capabilitiesFor(config: Config, shared: SharedParts): Capabilities | undefined {
  if (config.mcp === undefined) return undefined
  const byUrl = openedCapabilities.get(shared) ?? new Map<string, Capabilities>()
  openedCapabilities.set(shared, byUrl)
  const known = byUrl.get(config.mcp.publicUrl)
  if (known !== undefined) return known
  const capabilities = openCapabilities({
    keys: shared.gatewayTokens.keys,
    issuer: shared.gatewayTokens.issuer,
    publicUrl: config.mcp.publicUrl,
    revocations: shared.revocations,
    revocationStore: shared.storage.revocations,
  })
  byUrl.set(config.mcp.publicUrl, capabilities)
  return capabilities
}
