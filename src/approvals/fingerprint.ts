import { createHash } from 'node:crypto'
import type { ReviewRequestSummary } from '../storage/ports.js'

/** What one body of the request asks for (the request body, or one batch entry's `params`). */
export interface FingerprintEntry {
  readonly model: string
  readonly skills: readonly string[]
  readonly tools: readonly string[]
  readonly mcpServers: readonly string[]
}

/**
 * What makes two requests "the same" for an approver: who asks, under which rule, for which
 * endpoint, model, skills and tools, and what each body (each batch entry, in order) asks for. The
 * request id and the prompt are left out, so a client retry (a new request id, maybe a reworded
 * prompt) joins the pending review instead of opening another; two different batches never do.
 */
export function requestFingerprint(principal: string, rule: string, summary: ReviewRequestSummary, entries: readonly FingerprintEntry[] = []): string {
  const bodies = entries.map((entry) => [entry.model, [...entry.skills].sort(), [...entry.tools].sort(), [...entry.mcpServers].sort()])
  const canonical = JSON.stringify([principal, rule, summary.endpoint, summary.model, [...summary.skills].sort(), [...summary.tools].sort(), bodies])
  return createHash('sha256').update(canonical).digest('hex')
}
