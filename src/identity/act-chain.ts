/**
 * RFC 8693 §4.1 delegation chains: `act` names the current actor, and a nested `act` the one before
 * it. A gateway token's `act` is the exchanging client with the source token's own chain nested under
 * it, so the audit shows every hop. Only `sub` and `iss` of each actor are kept (§4.1: other claims
 * of a nested actor are informational), each hashed (`sourceValue`) when over 64 characters.
 */
import { sourceValue } from './source-value.js'

/** Levels in a gateway token's `act`, the exchanging client included. */
export const MAX_ACT_DEPTH = 5
/** Longer actor values are carried hashed: five levels must not push a gateway token past 8 KiB. */
const MAX_ACTOR_VALUE_CHARS = 64

export interface ActClaim {
  readonly sub: string
  readonly iss?: string
  readonly act?: ActClaim
}

/**
 * The chain of a verified token's `act` claim: undefined when absent, `'invalid'` when it is not a
 * chain of objects with a string `sub`, or is deeper than `maxDepth`.
 * @example readActChain({ sub: 'ci-bot', act: { sub: 'admin' } }, 4) // { sub: 'ci-bot', act: { sub: 'admin' } }
 */
export function readActChain(value: unknown, maxDepth: number): ActClaim | undefined | 'invalid' {
  if (value === undefined) return undefined
  const levels: { sub: string; iss?: string }[] = []
  let current: unknown = value
  while (current !== undefined) {
    if (levels.length === maxDepth || typeof current !== 'object' || current === null || Array.isArray(current)) return 'invalid'
    const { sub, iss, act } = current as { sub?: unknown; iss?: unknown; act?: unknown }
    if (typeof sub !== 'string' || sub === '' || (iss !== undefined && typeof iss !== 'string')) return 'invalid'
    levels.push({ sub: sourceValue(sub, MAX_ACTOR_VALUE_CHARS), ...(typeof iss === 'string' ? { iss: sourceValue(iss, MAX_ACTOR_VALUE_CHARS) } : {}) })
    current = act
  }
  return levels.reduceRight<ActClaim | undefined>((inner, level) => ({ ...level, ...(inner === undefined ? {} : { act: inner }) }), undefined)
}

/**
 * One line for the audit, current actor first: `token-exchange > ci-bot > admin@corp`. The audit
 * keeps scalar values only, so the chain is recorded in this form.
 */
export function formatActChain(chain: ActClaim): string {
  const actors: string[] = []
  for (let level: ActClaim | undefined = chain; level !== undefined; level = level.act) actors.push(level.iss === undefined ? level.sub : `${level.sub} (${level.iss})`)
  return actors.join(' > ')
}
