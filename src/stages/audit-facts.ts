import type { Masking } from '../masking/rule-masking.js'
import type { RequestContext } from '../pipeline/context.js'

/** What the audit record names about the request: model, skills, tools and container, from the body. */
export interface AuditFacts {
  readonly model?: string
  readonly skills: string[]
  readonly tools: string[]
  readonly containerId?: string
}

/** From `json`: the audit passes its masked copy, so no secret reaches these record fields either. */
export function auditFacts(ctx: RequestContext, json: unknown = ctx.json): AuditFacts {
  const body = isObject(json) ? json : undefined
  if (!body) return { skills: [], tools: [] }
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
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The request body as the audit keeps it: masked with the rule's detectors and the request
 * detectors, and with credentials the body legitimately carries (MCP `authorization_token`)
 * replaced. The audit stores masked content only (SPEC §5).
 */
export function auditRequestBody(ctx: RequestContext, masking: Masking): { body: unknown; hits: Record<string, number> } {
  if (ctx.json === undefined) return { body: undefined, hits: {} }
  const body = redactMcpTokens(ctx.json)
  const detectors = [...new Set([...masking.detectorsForRule(ctx.decision?.rule), ...(masking.requests?.block ?? []), ...(masking.requests?.mask ?? [])])]
  const masker = masking.forRule(ctx.decision?.rule) ?? masking.requests?.masker
  if (!masker || detectors.length === 0) return { body, hits: { ...ctx.requestMaskHits } }
  const masked = masker.maskRequest(body, detectors, { forwarded: false })
  return { body: masked.body, hits: { ...ctx.requestMaskHits, ...masked.hits } }
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
