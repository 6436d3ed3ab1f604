import { createHash } from 'node:crypto'
import type { ReviewRequestSummary } from '../storage/ports.js'

/**
 * What makes two requests "the same" for an approver: who asks, under which rule, for which
 * endpoint, model, skills and tools. The request id and the prompt are left out, so a client retry
 * (a new request id, maybe a reworded prompt) joins the pending review instead of opening another.
 */
export function requestFingerprint(principal: string, rule: string, summary: ReviewRequestSummary): string {
  const canonical = JSON.stringify([principal, rule, summary.endpoint, summary.model, [...summary.skills].sort(), [...summary.tools].sort()])
  return createHash('sha256').update(canonical).digest('hex')
}
