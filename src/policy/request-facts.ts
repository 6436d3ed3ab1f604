import type { EndpointName } from './endpoint.js'
import { isObject, listOf } from './facts/json.js'
import { mcpServersOf, type McpServerUse } from './facts/mcp-toolsets.js'
import { modelMembersOf, modelUsesOf, type ModelUse } from './facts/model-uses.js'
import { toolDefinitionsOf, toolName } from './facts/tool-definitions.js'

export type { EnabledTools, McpServerUse } from './facts/mcp-toolsets.js'
export type { ModelUse } from './facts/model-uses.js'

/**
 * What policy reads from a request body (anthropic-api.md §4 "Policy-relevant places",
 * claude-api-2026.md). Pure: takes parsed JSON, returns plain facts. Anything present but malformed
 * is kept as `''` rather than dropped, so that a criterion denies it instead of skipping it.
 */
export interface RequestFacts {
  /** Every model the request would run: executors, advisors, fallbacks, agent models; `''` when one is malformed. */
  readonly models: readonly string[]
  /** One per body: the body itself, or each `requests[i].params` of a batch. */
  readonly bodies: readonly BodyFacts[]
  /** Every reused container id, for the caller to look up its owner before evaluating. */
  readonly containerIds: readonly string[]
}

export interface BodyFacts {
  /** Where the body sits: `''` for the request body, `requests[3]` for a batch entry. */
  readonly at: string
  /** True when the body runs the model (messages, batch entries); false for count_tokens and agent definitions. */
  readonly executes: boolean
  /** The executor `model` of a Messages body (`''` when missing); undefined for Managed Agents bodies, which may omit it. */
  readonly model: string | undefined
  /** Every other model the body can cause to run: advisor tools, `fallbacks`, Managed Agents `model` members. */
  readonly otherModels: readonly ModelUse[]
  /** `max_tokens` when it is a number. */
  readonly maxTokens?: number
  /** `container.skills[*]`. */
  readonly skills: readonly SkillUse[]
  /** A reused container: `container` as a string, or `container.id`. */
  readonly container?: string
  /** `tools[*]` and inline `tool_addition` tools: the `type` of server and Anthropic-defined tools, `client:NAME` for client tools. */
  readonly tools: readonly string[]
  /** `mcp_servers[*]` with the tools the request enables on each. */
  readonly mcpServers: readonly McpServerUse[]
  /** `input.skill` of every `tool_use` named `Skill` in an assistant message (Claude Code, §13.2). */
  readonly clientSkills: readonly string[]
}

export interface SkillUse {
  readonly type: string
  readonly id: string
  /** `latest` when the request names none (the API's default). */
  readonly version: string
}

const none: RequestFacts = { models: [], bodies: [], containerIds: [] }

/** Managed Agents families whose create/update bodies carry models, tools and MCP servers. */
const agentDefinitions: ReadonlySet<string> = new Set(['agents.manage', 'environments', 'sessions', 'deployments'])

/**
 * @param json the parsed body, or undefined when the endpoint's body is not inspected (the
 *   read-body stage parses only bodies policy must read, so a defined `json` means "inspect").
 * @example extractRequestFacts('messages', { model: 'claude-sonnet-4-6', max_tokens: 10, messages: [] })
 */
export function extractRequestFacts(endpoint: EndpointName | 'unknown', json: unknown): RequestFacts {
  if (endpoint === 'messages') return collect([bodyFacts(json, '', true)])
  if (endpoint === 'count_tokens') return collect([bodyFacts(json, '', false)])
  if (endpoint === 'batches' && json !== undefined) {
    // A batch body without a `requests` list is checked as one empty entry, so it is denied.
    if (!isObject(json) || !Array.isArray(json.requests)) return collect([bodyFacts(undefined, 'requests', true)])
    return collect(json.requests.map((entry, i) => bodyFacts(isObject(entry) ? entry.params : undefined, `requests[${i}]`, true)))
  }
  if (agentDefinitions.has(endpoint) && json !== undefined) return collect([agentBodyFacts(json)])
  return none
}

function collect(bodies: BodyFacts[]): RequestFacts {
  return {
    models: bodies.flatMap((body) => [...(body.model === undefined ? [] : [body.model]), ...body.otherModels.map((use) => use.model)]),
    bodies,
    containerIds: [...new Set(bodies.flatMap((body) => (body.container ? [body.container] : [])))],
  }
}

function bodyFacts(body: unknown, at: string, executes: boolean): BodyFacts {
  const b = isObject(body) ? body : {}
  const container = containerOf(b.container)
  const tools = toolDefinitionsOf(b)
  return {
    at,
    executes,
    model: typeof b.model === 'string' ? b.model : '',
    otherModels: modelUsesOf(b, tools),
    ...(typeof b.max_tokens === 'number' ? { maxTokens: b.max_tokens } : {}),
    skills: skillsOf(b.container),
    ...(container === undefined ? {} : { container }),
    tools: tools.map(({ tool }) => toolName(tool)),
    mcpServers: mcpServersOf(b, tools),
    clientSkills: clientSkillsOf(b.messages),
  }
}

/**
 * A Managed Agents create or update: the agent loop runs inside Anthropic, so every `model` member,
 * and the `tools` and `mcp_servers` it defines (at the top, or in a session's or deployment's
 * `agent_with_overrides`), are checked like a Messages body's. It does not run the model by itself
 * (no max_tokens, no required skill).
 */
function agentBodyFacts(json: unknown): BodyFacts {
  const b = isObject(json) ? json : {}
  const definitions = [b, ...(isObject(b.agent) ? [b.agent] : [])].map((holder) => ({ holder, tools: listOf(holder.tools).map((tool, i) => ({ at: `tools[${i}]`, tool })) }))
  return {
    at: '',
    executes: false,
    model: undefined,
    otherModels: modelMembersOf(json),
    skills: [],
    tools: definitions.flatMap(({ tools }) => tools.map(({ tool }) => toolName(tool))),
    mcpServers: definitions.flatMap(({ holder, tools }) => mcpServersOf(holder, tools)),
    clientSkills: [],
  }
}

/** `"<id>"` or `{id, skills}`; a present but unreadable id is `''` (an owner no one has). */
function containerOf(container: unknown): string | undefined {
  if (container === undefined || container === null) return undefined
  if (typeof container === 'string') return container
  if (!isObject(container)) return ''
  if (container.id === undefined || container.id === null) return undefined
  return typeof container.id === 'string' ? container.id : ''
}

function skillsOf(container: unknown): SkillUse[] {
  if (!isObject(container) || container.skills === undefined || container.skills === null) return []
  return listOf(container.skills).map((skill) => {
    if (!isObject(skill)) return { type: '', id: '', version: '' }
    const version = skill.version === undefined || skill.version === null ? 'latest' : skill.version
    return {
      type: typeof skill.type === 'string' ? skill.type : '',
      id: typeof skill.skill_id === 'string' ? skill.skill_id : '',
      // Beta custom-skill versions were epoch-microsecond strings; a client may send the number.
      version: typeof version === 'string' ? version : typeof version === 'number' ? String(version) : '',
    }
  })
}

function clientSkillsOf(messages: unknown): string[] {
  const names: string[] = []
  for (const message of listOf(messages)) {
    if (!isObject(message) || message.role !== 'assistant' || !Array.isArray(message.content)) continue
    for (const block of message.content) {
      if (!isObject(block) || block.type !== 'tool_use' || block.name !== 'Skill') continue
      const input = block.input
      names.push(isObject(input) && typeof input.skill === 'string' ? input.skill : '')
    }
  }
  return names
}
