import type { Masking } from '../masking/rule-masking.js'
import type { AuditDecision, AuditReason } from '../audit/record.js'
import type { RequestContext } from '../pipeline/context.js'
import { extractRequestFacts, type RequestFacts, type SkillUse } from '../policy/request-facts.js'

/** What the audit record and an approver are shown about the request: models, skills, tools, container. */
export interface NamedFacts {
  /** Every distinct model the request runs, in order (a batch may name several), joined by ", ". */
  readonly model?: string
  /** Distinct `type:id`, with `@version` unless it is `latest`, over every body (each batch entry). */
  readonly skills: string[]
  /** Distinct tool types and `client:NAME`s over every body. */
  readonly tools: string[]
  /** The first reused container. */
  readonly containerId?: string
}

/**
 * Names the facts derived once from the body (`ctx.facts`, policy/request-facts.ts), so the record,
 * the review an approver sees and the policy decision all describe the same request.
 */
export function namedFacts(facts: RequestFacts | undefined): NamedFacts {
  if (!facts) return { skills: [], tools: [] }
  const models = new Set<string>()
  const skills = new Set<string>()
  const tools = new Set<string>()
  for (const model of facts.models) if (model !== '') models.add(model)
  for (const body of facts.bodies) {
    for (const skill of body.skills) skills.add(skillName(skill))
    for (const tool of body.tools) tools.add(tool)
  }
  const named: { model?: string; skills: string[]; tools: string[]; containerId?: string } = { skills: [...skills], tools: [...tools] }
  if (models.size > 0) named.model = [...models].join(', ')
  const containerId = facts.containerIds[0]
  if (containerId !== undefined) named.containerId = containerId
  return named
}

/** `anthropic:pptx`, `custom:skill_01…@1759178010641129`: how records and reviews name a skill. */
export function skillName(skill: SkillUse): string {
  return skill.version === 'latest' ? `${skill.type}:${skill.id}` : `${skill.type}:${skill.id}@${skill.version}`
}

/**
 * The request as the audit keeps it: the body masked with the rule's detectors and the request
 * detectors, credentials the body legitimately carries (MCP `authorization_token`) replaced, and the
 * named facts. The audit stores masked content only (SPEC §5): when its masking changed the body,
 * the facts are read again from the masked copy, so no secret reaches those fields either.
 */
export function auditRequest(ctx: RequestContext, masking: Masking): { body: unknown; hits: Record<string, number>; facts: NamedFacts } {
  if (ctx.json === undefined) return { body: undefined, hits: {}, facts: namedFacts(ctx.facts) }
  const body = redactMcpTokens(ctx.json)
  const detectors = [...new Set([...masking.detectorsForRule(ctx.decision?.rule), ...(masking.requests?.block ?? []), ...(masking.requests?.mask ?? [])])]
  const masker = masking.forRule(ctx.decision?.rule) ?? masking.requests?.masker
  if (!masker || detectors.length === 0) return { body, hits: { ...ctx.requestMaskHits }, facts: namedFacts(ctx.facts) }
  const masked = masker.maskRequest(body, detectors, { forwarded: false })
  const facts = masked.changed ? namedFacts(extractRequestFacts(ctx.endpoint?.name ?? 'unknown', masked.body)) : namedFacts(ctx.facts)
  return { body: masked.body, hits: { ...ctx.requestMaskHits, ...masked.hits }, facts }
}

function redactMcpTokens(json: unknown): unknown {
  if (!isObject(json) || !Array.isArray(json.mcp_servers)) return json
  return {
    ...json,
    mcp_servers: json.mcp_servers.map((server) =>
      isObject(server) && 'authorization_token' in server ? { ...server, authorization_token: '[REDACTED:credential]' } : server,
    ),
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The decision as the audit records it: what policy said, rule and principal, and every reason. */
export interface RecordedDecision {
  readonly effect: AuditDecision
  readonly rule?: string | undefined
  readonly principal?: string | undefined
  readonly reasons: readonly AuditReason[]
}

/**
 * A call under a rule that needs approval is recorded as `approval_required` whatever happened next
 * (granted, held then approved, pending, denied), with the approval's outcome as the last reason:
 * the outcome and that reason say how it ended, and `--decision approval_required` finds them all.
 */
export function recordedDecision(ctx: RequestContext, base: RecordedDecision): RecordedDecision {
  const approval = ctx.approval
  if (!approval) return base
  return { ...base, effect: 'approval_required', reasons: [...base.reasons, { code: `approval-${approval.state}`, detail: approval.detail }] }
}
