import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Approvals } from '../approvals/index.js'
import type { AuditWriter } from '../audit/writer.js'
import type { Config } from '../config/load.js'
import type { Limiter } from '../limits/index.js'
import type { TokenVerifier } from '../identity/index.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { Masking } from '../masking/rule-masking.js'
import type { Policy } from '../policy/compile.js'
import type { MintedTokenStore } from '../storage/ports-minted.js'
import type { McpAuthenticator } from './caller.js'
import { createMcpEndpoint, createResourceMetadata, type McpServerRuntime } from './endpoint.js'
import { clientAddresses } from '../http/client-address.js'
import type { RefusalAggregator } from '../audit/refusals.js'
import { endpointRefusalAudit, toolCallAudit } from './tool-audit.js'
import { toolCallLimits } from './tool-limits.js'
import { compileToolPolicy } from './tool-policy.js'
import { mcpCredential } from './upstream-credential.js'
import { workloadAuthenticator } from './workload-authenticator.js'

export type { McpAuthenticator, McpCaller } from './caller.js'

export interface McpParts {
  readonly verifier: TokenVerifier
  readonly policy: Policy
  readonly revocations: RevocationCache
  readonly minted: MintedTokenStore
  readonly approvals: Approvals
  readonly masking: Masking
  readonly audit: AuditWriter | undefined
  /** The `/v1` limiter: tool calls count against the rule's `requestsPerMinute` (tool-limits.ts). */
  readonly limiter: Limiter
  /** The `/v1` aggregator of anonymous refusals, shared so one address has one burst. */
  readonly refusals?: RefusalAggregator | undefined
  /** Tried before the workload-token authenticator (e.g. the connector's capability tokens). */
  readonly authenticators?: readonly McpAuthenticator[] | undefined
  readonly onError: (error: Error) => void
}

export interface McpHandlers {
  /** `/mcp/{id}`, any method. */
  readonly endpoint: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>
  /** `GET /.well-known/oauth-protected-resource/mcp/{id}`. */
  readonly resourceMetadata: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>
}

/** The MCP endpoint of one configuration (docs/mcp.md); rebuilt on reload with the rules it serves. */
export function buildMcp(config: Config, parts: McpParts): McpHandlers {
  const tools = compileToolPolicy(config.rules)
  const servers = new Map<string, McpServerRuntime>(
    config.mcpServers.map((server) => [server.id, { id: server.id, url: server.url, limits: server.limits, credential: mcpCredential(server, config.secrets.mcpServers?.[server.id]) }]),
  )
  const issuerIds = new Map(config.issuers.map((issuer) => [issuer.issuer, issuer.id]))
  const publicBase = config.gatewayTokens.issuer?.replace(/\/+$/, '')
  const addresses = clientAddresses(config.listen.trustedProxies)
  const limitsByRule = new Map(config.rules.map((rule) => [rule.id, rule.limits]))
  const authenticators = [
    ...(parts.authenticators ?? []),
    workloadAuthenticator({ verifier: parts.verifier, issuers: config.issuers, revocations: parts.revocations, policy: parts.policy, minted: parts.minted }),
  ]
  const endpoint = createMcpEndpoint({
    servers,
    authenticators,
    tools,
    masking: parts.masking,
    approvals: parts.approvals,
    limits: toolCallLimits(parts.limiter, (rule) => limitsByRule.get(rule)),
    audit: parts.audit && toolCallAudit(parts.audit, config.audit.content, parts.masking, parts.onError),
    issuerIdOf: (iss) => (typeof iss === 'string' ? issuerIds.get(iss) : undefined),
    publicBase,
    recordRefusal: parts.audit && endpointRefusalAudit(parts.audit, config.audit.content, parts.onError),
    refusals: parts.refusals,
    clientAddress: (req) => addresses.of(req),
  })
  const resourceMetadata = createResourceMetadata({ servers, publicBase }, config.issuers.map((issuer) => issuer.issuer))
  return { endpoint, resourceMetadata }
}
