import type { RuleConfig } from '../config/schema.js'

/** A rule's `approval:` block as the config layer parses it (durations already in ms). */
export type ApprovalConfig = NonNullable<RuleConfig['approval']>

/** The part of a rule the approvals module reads: its id and its `approval:` block. */
export interface ApprovalRule {
  readonly id: string
  readonly approval?: ApprovalConfig | undefined
}

/** `approval:` with every default applied. */
export interface ApprovalSettings {
  readonly required: boolean
  /** Roles of which an approver needs at least one. */
  readonly approverRoles: readonly string[]
  /** How long a grant lasts from the moment of approval. */
  readonly grantTtlMs: number
  /** Requests a grant admits; null = any number until it expires. */
  readonly uses: number | null
  /** How long a request waits for the decision with the connection open; 0 = answer 403 at once. */
  readonly holdMs: number
  /** How long a review can be decided. */
  readonly reviewTtlMs: number
}

export const hourMs = 3_600_000
export const defaultApproverRole = 'approver'

/**
 * Defaults: approvers need the `approver` role; a grant lasts one hour with unlimited uses; no hold;
 * a review can be decided for as long as its request is held, or one hour when nothing holds it
 * (the job answers 403 and retries), so an approval never arrives for a request that gave up long ago.
 */
export function approvalSettings(config: ApprovalConfig | undefined): ApprovalSettings {
  const holdMs = config?.hold ?? 0
  return {
    required: config?.required ?? false,
    approverRoles: config?.approvers !== undefined && config.approvers.length > 0 ? config.approvers : [defaultApproverRole],
    grantTtlMs: config?.grantTtl ?? hourMs,
    uses: config?.uses ?? null,
    holdMs,
    reviewTtlMs: holdMs > 0 ? holdMs : hourMs,
  }
}
