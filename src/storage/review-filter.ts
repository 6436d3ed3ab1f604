import type { GrantListQuery, ReviewListQuery } from './ports-approvals.js'

/**
 * WHERE clauses of review and grant listings, with `?` placeholders and their parameters in order.
 * Filters use the effective state at `now` (see `reviewFromRow`).
 */
export interface Filter {
  readonly where: string
  readonly params: unknown[]
}

export function reviewFilter(query: ReviewListQuery, now: number): Filter {
  const params: unknown[] = []
  const p = (value: unknown): string => (params.push(value), '?')
  const clauses: string[] = []
  if (query.state === 'pending') clauses.push(`state = 'pending' AND expires_at > ${p(now)}`)
  else if (query.state === 'expired') clauses.push(`(state = 'expired' OR (state = 'pending' AND expires_at <= ${p(now)}))`)
  else if (query.state !== undefined) clauses.push(`state = ${p(query.state)}`)
  if (query.principal !== undefined) clauses.push(`principal = ${p(query.principal)}`)
  if (query.rule !== undefined) clauses.push(`rule = ${p(query.rule)}`)
  if (query.cursor !== undefined) clauses.push(`id < ${p(query.cursor)}`)
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params }
}

export function grantFilter(query: GrantListQuery, now: number): Filter {
  const params: unknown[] = []
  const p = (value: unknown): string => (params.push(value), '?')
  const clauses: string[] = []
  if (query.active !== undefined) {
    params.push(now)
    clauses.push(query.active ? activeGrant : `NOT (${activeGrant})`)
  }
  if (query.principal !== undefined) clauses.push(`principal = ${p(query.principal)}`)
  if (query.rule !== undefined) clauses.push(`rule = ${p(query.rule)}`)
  if (query.cursor !== undefined) clauses.push(`id < ${p(query.cursor)}`)
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params }
}

/** A grant is usable: not revoked, not expired, uses left (or unlimited); binds `now` to its `?`. */
export const activeGrant = 'revoked_at IS NULL AND expires_at > ? AND (uses_left IS NULL OR uses_left > 0)'
