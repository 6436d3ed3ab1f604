import type { EndpointName } from './endpoint.js'

/**
 * What policy reads from a request body (anthropic-api.md §4 "Policy-relevant places"). Pure: takes
 * parsed JSON, returns plain facts. Anything present but malformed is kept as `''` rather than
 * dropped, so that a criterion denies it instead of skipping it.
 */
export interface RequestFacts {
  /** Every model the request would run (a batch names one per entry); `''` when one is missing. */
  readonly models: readonly string[]
  /** One per Messages body: the body itself, or each `requests[i].params` of a batch. */
  readonly bodies: readonly BodyFacts[]
  /** Every reused container id, for the caller to look up its owner before evaluating. */
  readonly containerIds: readonly string[]
}

export interface BodyFacts {
  /** Where the body sits: `''` for the request body, `requests[3]` for a batch entry. */
  readonly at: string
  /** True when the body runs the model (messages, batch entries); false for count_tokens. */
  readonly executes: boolean
  readonly model: string
  /** `max_tokens` when it is a number. */
  readonly maxTokens?: number
  /** `container.skills[*]`. */
  readonly skills: readonly SkillUse[]
  /** A reused container: `container` as a string, or `container.id`. */
  readonly container?: string
  /** `tools[*]`: the `type` of server and Anthropic-defined tools, `client:NAME` for client tools. */
  readonly tools: readonly string[]
  /** `mcp_servers[*].url`. */
  readonly mcpServers: readonly string[]
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
  return none
}

function collect(bodies: BodyFacts[]): RequestFacts {
  return {
    models: bodies.map((body) => body.model),
    bodies,
    containerIds: [...new Set(bodies.flatMap((body) => (body.container ? [body.container] : [])))],
  }
}

function bodyFacts(body: unknown, at: string, executes: boolean): BodyFacts {
  const b = isObject(body) ? body : {}
  const container = containerOf(b.container)
  return {
    at,
    executes,
    model: typeof b.model === 'string' ? b.model : '',
    ...(typeof b.max_tokens === 'number' ? { maxTokens: b.max_tokens } : {}),
    skills: skillsOf(b.container),
    ...(container === undefined ? {} : { container }),
    tools: listOf(b.tools).map(toolOf),
    mcpServers: listOf(b.mcp_servers).map((server) => (isObject(server) && typeof server.url === 'string' ? server.url : '')),
    clientSkills: clientSkillsOf(b.messages),
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

/** Server and Anthropic-defined tools carry a `type`; client tools have none or `custom` (§8.1). */
function toolOf(tool: unknown): string {
  if (!isObject(tool)) return ''
  if (typeof tool.type === 'string' && tool.type !== 'custom') return tool.type
  return typeof tool.name === 'string' ? `client:${tool.name}` : ''
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

/** A present non-list is one malformed entry, so it is denied rather than ignored. */
function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? value : [value]
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
