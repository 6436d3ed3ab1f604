import { createHash } from 'node:crypto'
import { canonicalJson } from '../audit/canonical-json.js'

/** SHA-256 (hex) of the canonical JSON of a tool call's arguments: key order and whitespace do not matter. */
export function argumentsDigest(args: unknown): string {
  return createHash('sha256').update(canonicalJson(args ?? {})).digest('hex')
}

/**
 * What an MCP approval is bound to (issue #19 item 3): who asks, under which rule, which server,
 * which tool, and the arguments' digest. A different argument is a different fingerprint, so a new review.
 */
export function toolCallFingerprint(input: { readonly principal: string; readonly rule: string; readonly serverId: string; readonly tool: string; readonly args: unknown }): string {
  const canonical = canonicalJson(['mcp.tools.call', input.principal, input.rule, input.serverId, input.tool, argumentsDigest(input.args)])
  return createHash('sha256').update(canonical).digest('hex')
}
