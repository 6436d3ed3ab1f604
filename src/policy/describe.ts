import type { Reason, ReasonCode } from './reasons.js'

type Describe = (detail: string) => string

/**
 * One sentence per reason, safe for a client (details never carry claim values or secrets). Used by
 * `policy explain`, and meant for the authorize stage's error message. A Record, so a new code
 * without a sentence does not compile.
 */
const sentences: Readonly<Record<ReasonCode, Describe>> = {
  'rule-matched': (d) => `rule ${d} matches this identity`,
  'deny-rule-matched': (d) => `deny rule ${d} matches this identity`,
  'no-rule-matched': () => 'no allow rule matches this identity',
  'ambiguous-rules': (d) => `several allow rules match (${d}); name one with the skillgate-rule header`,
  'named-rule-unknown': (d) => `no allow rule "${d}" for this issuer`,
  'named-rule-not-matched': (d) => `the named rule ${d} does not match this identity`,
  'condition-error': (d) => `condition of rule ${d.replace(': ', ' failed: ')} (a deny rule matches on error, an allow rule does not)`,
  'principal-claim-missing': (d) => `a claim of the principal template of rule ${d} is missing`,
  'principal-changed': (d) => `rule ${d} now maps this identity to another principal; exchange the token again`,
  'endpoint-granted': (d) => `endpoint ${d} is granted`,
  'endpoint-not-granted': (d) => (d === 'unknown' ? 'this path is not a Claude API endpoint the gateway grants' : `endpoint ${d} is not in allow.endpoints`),
  'model-granted': (d) => `model ${d} is granted`,
  'model-missing': (d) => (d ? `${d} names no model` : 'the request names no model'),
  'model-not-granted': (d) => `model ${d} is not in allow.models`,
  'skill-granted': (d) => `skill ${d} is granted`,
  'skill-not-granted': (d) => `skill ${d} is not in allow.skills`,
  'skill-version-not-granted': (d) => `skill version ${d} is not in the skill's versions`,
  'skill-required': (d) => `${d || 'the request'} carries no granted skill, and the rule requires one (allow.requireSkill)`,
  'tool-granted': (d) => `tools ${d} are granted`,
  'tool-not-granted': (d) => `tool ${d} is not in allow.tools`,
  'mcp-server-granted': (d) => `MCP servers ${d} are granted`,
  'mcp-server-not-granted': (d) => `MCP server ${d} is not under allow.mcpServers`,
  'mcp-gateway-server-not-granted': (d) => `MCP server ${d} is not granted by allow.mcp`,
  'mcp-tool-not-granted': (d) => `MCP tool ${d} is not granted by the tools of its allow.mcpServers entry`,
  'max-tokens-within': (d) => `max_tokens ${d} (allow.maxTokens)`,
  'max-tokens-exceeded': (d) => `max_tokens ${d} (allow.maxTokens)`,
  'max-tokens-missing': (d) => `max_tokens is missing, so the ${d} of allow.maxTokens cannot be checked`,
  'container-owned': (d) => `container ${d} belongs to this principal`,
  'container-not-owned': (d) => `container ${d} belongs to another principal`,
  'container-owner-unknown': (d) => `container ${d} was not created through this gateway for this principal`,
  'client-skill-granted': (d) => `Skill tool calls ${d} are granted`,
  'client-skill-not-granted': (d) => `Skill tool call ${d} is not in allow.clientSkills`,
  'object-not-owned': (d) => `${d} belongs to another principal`,
  'object-owner-unknown': (d) => `${d} was not created through this gateway for this principal`,
}

/** @example describeReason({ code: 'model-not-granted', detail: 'gpt-4' }) // 'model gpt-4 is not in allow.models' */
export function describeReason(reason: Reason): string {
  return sentences[reason.code](reason.detail ?? '')
}
