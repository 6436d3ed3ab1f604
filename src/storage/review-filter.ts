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
  if (query.state === 'pending') return listFilter(query, `state = 'pending' AND expires_at > ?`, now)
  if (query.state === 'expired') return listFilter(query, `(state = 'expired' OR (state = 'pending' AND expires_at <= ?))`, now)
  return query.state === undefined ? listFilter(query) : listFilter(query, 'state = ?', query.state)
}

export function grantFilter(query: GrantListQuery, now: number): Filter {
  if (query.active === undefined) return listFilter(query)
  return listFilter(query, query.active ? activeGrant : `NOT (${activeGrant})`, now)
}

/** `first` (a clause whose one `?` binds `param`), then the filters both listings share. */
function listFilter(query: ReviewListQuery | GrantListQuery, first?: string, param?: unknown): Filter {
  const clauses: string[] = first === undefined ? [] : [first]
  const params: unknown[] = first === undefined ? [] : [param]
  const p = (value: unknown): string => (params.push(value), '?')
  if (query.principal !== undefined) clauses.push(`principal = ${p(query.principal)}`)
  if (query.rule !== undefined) clauses.push(`rule = ${p(query.rule)}`)
  if (query.cursor !== undefined) clauses.push(`id < ${p(query.cursor)}`)
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params }
}

/** A grant is usable: not revoked, not expired, uses left (or unlimited); binds `now` to its `?`. */
export const activeGrant = 'revoked_at IS NULL AND expires_at > ? AND (uses_left IS NULL OR uses_left > 0)'
