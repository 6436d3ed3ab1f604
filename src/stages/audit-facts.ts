import type { Masking } from '../masking/rule-masking.js'
import type { AuditDecision, AuditReason } from '../audit/record.js'
import type { RequestContext } from '../pipeline/context.js'
import { extractRequestFacts, type RequestFacts, type SkillUse } from '../policy/request-facts.js'

/** What the audit record and an approver are shown about the request: models, skills, tools, container. */
export interface NamedFacts {
  /** Every distinct executor model, in order (a batch may name several), joined by ", ". */
  readonly model?: string
  /** Distinct `type:id`, with `@version` unless it is `latest`, over every body (each batch entry). */
  readonly skills: string[]
  /** Distinct tool types and `client:NAME`s over every body. */
  readonly tools: string[]
  /** The first reused container. */
  readonly containerId?: string
}

/** The record's facts: the named request facts, and the client session from a header. */
export interface AuditFacts extends NamedFacts {
  readonly clientSession?: string
}

/** Claude Code's session ids are UUIDs; anything else shaped like an id is kept, other values are not recorded. */
const sessionIdShape = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

/** `x-claude-code-session-id` when it is one id (claude-api-2026.md §6); never a list, never free text. */
export function clientSessionOf(ctx: Pick<RequestContext, 'headers'>): string | undefined {
  const value = ctx.headers['x-claude-code-session-id']
  return typeof value === 'string' && sessionIdShape.test(value) ? value : undefined
}

/**
 * Names the facts derived once from the body (`ctx.facts`, policy/request-facts.ts), so the record,
 * the review an approver sees and the policy decision all describe the same request. `model` names
 * the models that execute each body (advisors and fallbacks are in the facts, and so in the review's
 * fingerprint, but not in this name).
 */
export function namedFacts(facts: RequestFacts | undefined): NamedFacts {
  if (!facts) return { skills: [], tools: [] }
  const models = new Set<string>()
  const skills = new Set<string>()
  const tools = new Set<string>()
  for (const body of facts.bodies) {
    if (body.model !== undefined && body.model !== '') models.add(body.model)
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
 * detectors, with credentials the body legitimately carries replaced wherever they sit (MCP
 * `authorization_token` in a body, a batch entry or an agent; Managed Agents vault and repository
 * credentials), and the record's facts. The audit stores masked content only (SPEC §5): when its
 * masking changed the body, the facts are read again from the masked copy, so no secret reaches
 * those fields either.
 */
export function auditRequest(ctx: RequestContext, masking: Masking): { body: unknown; hits: Record<string, number>; facts: AuditFacts } {
  const clientSession = clientSessionOf(ctx)
  // Object.assign onto fresh objects, not spreads: why, at indexRow in audit/batch-plan.ts.
  const session = clientSession === undefined ? {} : { clientSession }
  if (ctx.json === undefined) return { body: undefined, hits: {}, facts: Object.assign(namedFacts(ctx.facts), session) }
  const body = redactCredentials(ctx.json, messageFamilies.has(ctx.endpoint?.name ?? 'unknown') ? bodyCredentials : agentCredentials)
  const detectors = auditDetectors(masking, ctx.decision?.rule)
  const masker = masking.forRule(ctx.decision?.rule) ?? masking.requests?.masker
  if (!masker || detectors.length === 0) return { body, hits: { ...ctx.requestMaskHits }, facts: Object.assign(namedFacts(ctx.facts), session) }
  const masked = masker.maskRequest(body, detectors, { forwarded: false })
  const facts = masked.changed ? namedFacts(extractRequestFacts(ctx.endpoint?.name ?? 'unknown', masked.body)) : namedFacts(ctx.facts)
  return { body: masked.body, hits: Object.assign({}, ctx.requestMaskHits, masked.hits), facts: Object.assign(facts, session) }
}

/** Lists per configuration and rule, made once: the masker then finds its compiled set by the list's identity. */
const detectorLists = new WeakMap<Masking, Map<string | undefined, readonly string[]>>()

/** The audit copy's detectors: the rule's profiles and the request sets. */
function auditDetectors(masking: Masking, rule: string | undefined): readonly string[] {
  let lists = detectorLists.get(masking)
  if (!lists) detectorLists.set(masking, (lists = new Map()))
  let list = lists.get(rule)
  if (!list) {
    list = Object.freeze([...new Set([...masking.detectorsForRule(rule), ...(masking.requests?.block ?? []), ...(masking.requests?.mask ?? [])])])
    lists.set(rule, list)
  }
  return list
}

const messageFamilies: ReadonlySet<string> = new Set(['messages', 'count_tokens', 'batches'])
/** Members that hold a credential in a Messages body (the MCP connector's). */
const bodyCredentials: ReadonlySet<string> = new Set(['authorization_token'])
/** Managed Agents bodies also carry vault credentials (claude-api-2026.md §4). */
const agentCredentials: ReadonlySet<string> = new Set(['authorization_token', 'access_token', 'refresh_token', 'client_secret', 'token', 'secret_value'])
/** Managed Agents answers carry credentials too: a tunnel's `reveal_token` returns `tunnel_token`. */
const agentAnswerCredentials: ReadonlySet<string> = new Set([...agentCredentials, 'tunnel_token'])
const redacted = '[REDACTED:credential]'

/**
 * A JSON answer as the audit keeps it: Managed Agents answers (a revealed tunnel token, vault
 * credentials echoed back) with their credentials replaced. The client still receives them: its
 * rule granted the endpoint explicitly. Messages answers are masked by the masking stage instead.
 */
export function auditResponseJson(ctx: Pick<RequestContext, 'endpoint'>, json: unknown): unknown {
  const endpoint = ctx.endpoint?.name ?? 'unknown'
  if (messageFamilies.has(endpoint) || endpoint === 'models' || endpoint === 'files' || endpoint.startsWith('skills.')) return json
  return redactCredentials(json, agentAnswerCredentials)
}

/** A copy with every member of `names` replaced, at any depth; unchanged containers are shared, not copied. */
export function redactCredentials(json: unknown, names: ReadonlySet<string> = agentCredentials, depth = 0): unknown {
  if (depth > 128 || typeof json !== 'object' || json === null) return json
  // Runs on every audited body: no copy (nor entries array) unless a credential is found.
  if (Array.isArray(json)) {
    let items: unknown[] | undefined
    for (let i = 0; i < json.length; i++) {
      const item: unknown = json[i]
      const next = redactCredentials(item, names, depth + 1)
      if (next !== item) (items ??= json.slice())[i] = next
    }
    return items ?? json
  }
  let copy: Record<string, unknown> | undefined
  const record = json as Record<string, unknown>
  for (const key of Object.keys(record)) {
    const value = record[key]
    const next = names.has(key) && value !== null && value !== undefined ? redacted : typeof value === 'object' ? redactCredentials(value, names, depth + 1) : value
    // defineProperty: a member named `__proto__` stays a member, never a prototype.
    if (next !== value) Object.defineProperty((copy ??= { ...(json as Record<string, unknown>) }), key, { value: next, enumerable: true, writable: true, configurable: true })
  }
  return copy ?? json
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
  const noted = withConnectorNote(ctx, base)
  const approval = ctx.approval
  if (!approval) return noted
  return { ...noted, effect: 'approval_required', reasons: [...noted.reasons, { code: `approval-${approval.state}`, detail: approval.detail }] }
}

/** The MCP connector rewrite (stages/rewrite-mcp-connector.ts), noted after policy's reasons. */
function withConnectorNote(ctx: RequestContext, base: RecordedDecision): RecordedDecision {
  const note = ctx.mcpConnectorNote
  return note === undefined ? base : { ...base, reasons: [...base.reasons, { code: 'mcp-connector-rewritten', detail: note }] }
}
