import type { RequestContext } from '../pipeline/context.js'

/** What the audit record names about the request: model, skills, tools and container, from the body. */
export interface AuditFacts {
  readonly model?: string
  readonly skills: string[]
  readonly tools: string[]
  readonly containerId?: string
}

export function auditFacts(ctx: RequestContext): AuditFacts {
  const body = isObject(ctx.json) ? ctx.json : undefined
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
