import type { RefusalAggregator } from '../audit/refusals.js'
import type { AuditWriter } from '../audit/writer.js'
import type { Config } from '../config/load.js'
import type { Masking } from '../masking/rule-masking.js'
import type { Approvals } from '../approvals/index.js'
import type { Limiter } from '../limits/index.js'
import type { TokenVerifier } from '../identity/index.js'
import type { RevocationCache } from '../identity/revocation-cache.js'
import type { Capabilities } from '../mcp/capability.js'
import type { ConnectorRule } from '../mcp/connector.js'
import type { Policy } from '../policy/compile.js'
import type { MintedTokenStore } from '../storage/ports-minted.js'
import type { OwnershipStore } from '../storage/ports-ownership.js'
import { namedCustomSkills } from '../ownership/index.js'
import { auditClose } from '../stages/audit-close.js'
import { auditOpen } from '../stages/audit-open.js'
import { auditTrail } from '../stages/audit-trail.js'
import { authenticate } from '../stages/authenticate.js'
import { authorize } from '../stages/authorize.js'
import { approve } from '../stages/approve.js'
import { limit } from '../stages/limit.js'
import { observeResponse } from '../stages/observe-response.js'
import { checkOwnership } from '../stages/check-ownership.js'
import { classify } from '../stages/classify.js'
import { filterModels } from '../stages/filter-models.js'
import { forward } from '../stages/forward.js'
import { guardRequest } from '../stages/guard-request.js'
import { maskResponse } from '../stages/mask-response.js'
import { ownResponses } from '../stages/own-responses.js'
import { injectCredential, type CredentialProvider } from '../stages/inject-credential.js'
import { readBody } from '../stages/read-body.js'
import { respond } from '../stages/respond.js'
import { rewriteMcpConnector } from '../stages/rewrite-mcp-connector.js'
import type { UpstreamClient } from '../upstream/client.js'
import type { Stage } from './stage.js'

export interface PipelineDeps {
  readonly verifier: TokenVerifier
  readonly revocations: RevocationCache
  readonly policy: Policy
  /** Who created each upstream object (batches, files, containers, skills), shared by every replica. */
  readonly owners: OwnershipStore
  readonly credential: CredentialProvider
  readonly upstream: UpstreamClient
  readonly masking: Masking
  readonly approvals: Approvals
  readonly limiter: Limiter
  /** Source claims of live gateway tokens, re-checked against today's rules on every call. */
  readonly minted: MintedTokenStore
  /** Undefined only when `audit.insecureDisabled` is set. */
  readonly audit: AuditWriter | undefined
  /** Unauthenticated refusals past a per-address burst, aggregated per minute (undefined: each recorded). */
  readonly refusals?: RefusalAggregator | undefined
  /** MCP connector capability tokens; undefined without `mcp.publicUrl`. */
  readonly capabilities?: Capabilities | undefined
}

/**
 * THE request lifecycle of `/v1/*`, in order. Read top to bottom; docs/pipeline.md draws it with
 * each stage's error statuses. Authentication comes before the body is read, so an anonymous client
 * cannot make the gateway buffer 32 MB. The audit stages are left out only when the audit is
 * disabled (`audit.insecureDisabled`, benchmarks).
 */
export const buildPipeline = (deps: PipelineDeps, config: Config): Stage[] => {
  const ruleLimits = limitsOf(config)
  // Usage is read from the answer only for the limit stage, which acts only for a rule with limits.
  const countsUsage = (rule: string | undefined) => rule !== undefined && Boolean(ruleLimits(rule))
  const audit = (stage: (writer: AuditWriter, content: 'masked' | 'metadata', masking: Masking) => Stage): Stage[] =>
    deps.audit ? [stage(deps.audit, config.audit.content, deps.masking)] : []
  return [
    classify(), //                                  endpoint from method + pathname
    ...audit((writer, content, masking) => auditTrail(writer, content, masking, deps.refusals)), // refusals below are recorded too; anonymous ones past a burst aggregated
    authenticate(deps.verifier, config.issuers, deps.revocations), // 401; 503 without revocation list
    readBody({ maxBody: config.listen.maxBody, idleMs: config.listen.bodyTimeout, deadlineMs: config.listen.requestTimeout }), // 413, 408, 400 malformed JSON or a repeated member; request facts
    // Before policy: a blocked secret must not reach the decision's reasons (and so the audit).
    guardRequest(deps.masking), //                   400: secrets that must not leave for Claude
    authorize(deps.policy, deps.owners, deps.revocations, deps.minted), // 403; 401 revoked principal or unknown gateway token source; 404 another's container
    checkOwnership(deps.owners, namedSkillsOf(config)), // 404: another principal's (or an unknown) batch, file, skill or Managed Agents object
    limit(deps.limiter, ruleLimits), //              429 + retry-after; usage counted when it ends
    approve(deps.approvals), //                      403 naming the review, or held until approved;
    //                                               after guard and limits: a refused call takes no grant use
    rewriteMcpConnector({ capabilities: deps.capabilities, rule: connectorRulesOf(config), isConfigured: mcpServerIdsOf(config), ttlMs: config.mcp?.capabilityTtl ?? 600_000 }), // 400/403 skillgate:{id}; the one body rewrite, before audit-open records it
    ...audit(auditOpen), //                         503: committed before anything goes upstream
    injectCredential(deps.credential), //            503 without an upstream credential
    forward(deps.upstream), //                       502 / 504; upstream statuses pass through
    observeResponse(countsUsage), //                 each SSE event / JSON answer parsed once, shared below; usage for budgets
    ownResponses(deps.owners), //                    owners of what was created, recorded first; lists cut to the caller's
    filterModels(modelGlobsOf(config)), //           GET /v1/models: only the rule's models; 403 retrieving another
    maskResponse(deps.masking), //                   masked per content block while it streams; session events
    ...audit(auditClose), //                        completion committed before the last byte
    respond(), //                                    SSE as it arrives, whole events; `event: error` mid-stream
  ]
}

function modelGlobsOf(config: Config): (rule: string) => readonly string[] | undefined {
  const byRule = new Map(config.rules.map((rule) => [rule.id, rule.allow?.models]))
  return (rule) => byRule.get(rule)
}

function namedSkillsOf(config: Config): (rule: string | undefined) => ReadonlySet<string> {
  const byRule = namedCustomSkills(config)
  const none: ReadonlySet<string> = new Set()
  return (rule) => (rule === undefined ? none : (byRule.get(rule) ?? none))
}

function limitsOf(config: Config): (rule: string) => Config['rules'][number]['limits'] {
  const byRule = new Map(config.rules.map((rule) => [rule.id, rule.limits]))
  return (rule) => byRule.get(rule)
}

function connectorRulesOf(config: Config): (rule: string | undefined) => ConnectorRule | undefined {
  const byRule = new Map(
    config.rules.map((rule) => [rule.id, { gateway: rule.mcp?.connector === 'gateway', grants: new Map(Object.entries(rule.allow?.mcp ?? {}).map(([id, grant]) => [id, grant.tools])) }]),
  )
  return (rule) => (rule === undefined ? undefined : byRule.get(rule))
}

/** Gateway MCP servers (`mcpServers[].id`): a `skillgate:{id}` outside them is refused before forwarding. */
function mcpServerIdsOf(config: Config): (id: string) => boolean {
  const ids = new Set(config.mcpServers.map((server) => server.id))
  return (id) => ids.has(id)
}
