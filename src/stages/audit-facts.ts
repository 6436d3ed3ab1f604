import type { Masking } from '../masking/rule-masking.js'
import type { AuditDecision, AuditReason } from '../audit/record.js'
import type { RequestContext } from '../pipeline/context.js'

/** What the audit record names about the request: model, skills, tools and container from the body, the client session from a header. */
export interface AuditFacts {
  readonly model?: string
  readonly skills: string[]
  readonly tools: string[]
  readonly containerId?: string
  readonly clientSession?: string
}

/** Claude Code's session ids are UUIDs; anything else shaped like an id is kept, other values are not recorded. */
const sessionIdShape = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

/** `x-claude-code-session-id` when it is one id (claude-api-2026.md §6); never a list, never free text. */
export function clientSessionOf(ctx: Pick<RequestContext, 'headers'>): string | undefined {
  const value = ctx.headers['x-claude-code-session-id']
  return typeof value === 'string' && sessionIdShape.test(value) ? value : undefined
}

/** From `json`: the audit passes its masked copy, so no secret reaches these record fields either. */
export function auditFacts(ctx: RequestContext, json: unknown = ctx.json): AuditFacts {
  const clientSession = clientSessionOf(ctx)
  const session = clientSession === undefined ? {} : { clientSession }
  const body = isObject(json) ? json : undefined
  if (!body) return { skills: [], tools: [], ...session }
  const container = body.container
  const containerId = typeof container === 'string' ? container : isObject(container) && typeof container.id === 'string' ? container.id : undefined
  const skills = isObject(container) && Array.isArray(container.skills)
    ? container.skills.flatMap((s) => (isObject(s) && typeof s.skill_id === 'string' ? [`${String(s.type ?? 'custom')}:${s.skill_id}${typeof s.version === 'string' ? `@${s.version}` : ''}`] : []))
    : []
  const tools = Array.isArray(body.tools)
    ? body.tools.flatMap((t) => (isObject(t) ? [typeof t.type === 'string' && t.type !== 'custom' ? t.type : `client:${String(t.name ?? '')}`] : []))
    : []
  return {
    ...(typeof body.model === 'string' ? { model: body.model } : {}),
    skills,
    tools,
    ...(containerId !== undefined ? { containerId } : {}),
    ...session,
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The request body as the audit keeps it: masked with the rule's detectors and the request
 * detectors, and with credentials the body legitimately carries replaced wherever they sit (MCP
 * `authorization_token` in a body, a batch entry or an agent; Managed Agents vault and repository
 * credentials). The audit stores masked content only (SPEC §5).
 */
export function auditRequestBody(ctx: RequestContext, masking: Masking): { body: unknown; hits: Record<string, number> } {
  if (ctx.json === undefined) return { body: undefined, hits: {} }
  const body = redactCredentials(ctx.json, messageFamilies.has(ctx.endpoint?.name ?? 'unknown') ? bodyCredentials : agentCredentials)
  const detectors = [...new Set([...masking.detectorsForRule(ctx.decision?.rule), ...(masking.requests?.block ?? []), ...(masking.requests?.mask ?? [])])]
  const masker = masking.forRule(ctx.decision?.rule) ?? masking.requests?.masker
  if (!masker || detectors.length === 0) return { body, hits: { ...ctx.requestMaskHits } }
  const masked = masker.maskRequest(body, detectors, { forwarded: false })
  return { body: masked.body, hits: { ...ctx.requestMaskHits, ...masked.hits } }
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
  if (Array.isArray(json)) {
    const items = json.map((item) => redactCredentials(item, names, depth + 1))
    return items.some((item, i) => item !== json[i]) ? items : json
  }
  let copy: Record<string, unknown> | undefined
  for (const [key, value] of Object.entries(json)) {
    const next = names.has(key) && value !== null && value !== undefined ? redacted : redactCredentials(value, names, depth + 1)
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
  const approval = ctx.approval
  if (!approval) return base
  return { ...base, effect: 'approval_required', reasons: [...base.reasons, { code: `approval-${approval.state}`, detail: approval.detail }] }
}
