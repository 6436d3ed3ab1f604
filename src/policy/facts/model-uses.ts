import { isObject, listOf } from './json.js'
import { isAdvisorTool, type ToolDefinition } from './tool-definitions.js'

/**
 * A model a request can cause to run besides the executor `model`: each one is billed and must be
 * granted by `allow.models` like the executor.
 */
export interface ModelUse {
  /** The model id; `''` when present but malformed. */
  readonly model: string
  /** What names it, for reasons: `advisor tools[1]`, `fallbacks[0]`, `agent.model`. */
  readonly via: string
  /** `fallbacks: "default"`: Anthropic picks (which models is unconfirmed), so only a rule allowing `*` grants it. */
  readonly anyModel?: true
}

/** Advisor tools (in `tools` and inline) and `fallbacks` of a Messages body. */
export function modelUsesOf(body: Record<string, unknown>, tools: readonly ToolDefinition[]): ModelUse[] {
  const advisors = tools.filter(({ tool }) => isAdvisorTool(tool)).map(({ tool, at }) => ({ model: modelId((tool as Record<string, unknown>).model), via: `advisor ${at}` }))
  return [...advisors, ...fallbacksOf(body.fallbacks)]
}

/** `fallbacks: [{model, …}] | ["model"] | "default"` (server-side-fallback beta, claude-api-2026.md §7). */
function fallbacksOf(fallbacks: unknown): ModelUse[] {
  if (fallbacks === 'default') return [{ model: 'default', via: 'fallbacks', anyModel: true }]
  return listOf(fallbacks).map((entry, i) => ({ model: modelId(isObject(entry) ? entry.model : entry), via: `fallbacks[${i}]` }))
}

/** A model is named by a string, or (Managed Agents) by `{id, speed?}`; anything else is malformed. */
export function modelId(value: unknown): string {
  if (typeof value === 'string') return value
  if (isObject(value) && typeof value.id === 'string') return value.id
  return ''
}

/**
 * Every member named `model` anywhere in a Managed Agents body (agent `model`, session
 * `agent_with_overrides.model`, roster `{type:"advisor", model}`): their shapes are young and
 * partly unconfirmed, so every place a model can hide is read rather than a list of known ones.
 */
export function modelMembersOf(json: unknown, path = '', out: ModelUse[] = [], depth = 0): ModelUse[] {
  if (depth > 64) return out
  if (Array.isArray(json)) json.forEach((item, i) => modelMembersOf(item, `${path}[${i}]`, out, depth + 1))
  else if (isObject(json)) {
    for (const [name, value] of Object.entries(json)) {
      const at = path === '' ? name : `${path}.${name}`
      if (name === 'model' && value !== null) out.push({ model: modelId(value), via: at })
      else modelMembersOf(value, at, out, depth + 1)
    }
  }
  return out
}
