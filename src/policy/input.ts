import type { EndpointName } from './endpoint.js'

/**
 * What policy compiles from. Structurally the `rules:` and `skills:` sections of the parsed config
 * (src/config/schema.ts), declared here so policy can grow a key (`allow.clientSkills`) before the
 * schema does and so tests can pass plain objects.
 */
export interface RuleInput {
  readonly id: string
  readonly issuer: string
  readonly effect: 'allow' | 'deny'
  readonly match: MatchInput
  /** Principal template, e.g. `gha:{repository_owner_id}/{repository_id}`; default: `{sub}`. */
  readonly principal?: string | undefined
  readonly allow?: AllowInput | undefined
}

export interface MatchInput {
  /** Exact `sub`, or a prefix ending in `*` (config load checked that it ends at a delimiter). */
  readonly subject?: string | undefined
  /** Exact string values, by claim name or dotted path. */
  readonly claims?: Readonly<Record<string, string>> | undefined
  /** CEL over `claims`. */
  readonly condition?: string | undefined
}

/**
 * A rule's grants. Lists are allow lists: absent means nothing of that kind is granted, except
 * `maxTokens` (absent: no cap) and `requireSkill` (absent: false).
 */
export interface AllowInput {
  readonly endpoints: readonly EndpointName[]
  /** Model globs. */
  readonly models?: readonly string[] | undefined
  /** Skill aliases (keys of `skills:`), ids of configured skills, or `anthropic:ID` / `custom:ID`. */
  readonly skills?: readonly string[] | undefined
  readonly requireSkill?: boolean | undefined
  /** Tool globs: server and Anthropic-defined tools by `type`, client tools as `client:NAME`. */
  readonly tools?: readonly string[] | undefined
  /**
   * MCP connector servers: a URL prefix (matched on origin and whole path segments) grants every
   * tool of the servers under it; `{ url, tools }` grants only the tools matching those globs.
   */
  readonly mcpServers?: readonly McpServerGrantInput[] | undefined
  /** Gateway MCP servers by `mcpServers[].id`: tool globs (and a CEL condition the endpoint applies). */
  readonly mcp?: Readonly<Record<string, McpGrantInput>> | undefined
  readonly maxTokens?: number | undefined
  /** Claude Code `Skill` tool: skill name globs the model may have invoked (anthropic-api.md §13.2). */
  readonly clientSkills?: readonly string[] | undefined
}

export interface McpGrantInput {
  readonly tools: readonly string[]
  readonly condition?: string | undefined
}

export type McpServerGrantInput = string | { readonly url: string; readonly tools: readonly string[] }

export interface SkillInput {
  readonly type: 'custom' | 'anthropic'
  readonly id: string
  /** Allowed versions; absent: any version. `latest` (also what no version means) only when listed. */
  readonly versions?: readonly string[] | undefined
}

/** The `skills:` section: alias → skill. */
export type SkillCatalog = Readonly<Record<string, SkillInput>>

/** Anything with the two sections policy reads: the loaded `Config` qualifies. */
export interface PolicySource {
  readonly rules: readonly RuleInput[]
  readonly skills: SkillCatalog
}
