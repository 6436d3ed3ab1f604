import type { Reason } from '../reasons.js'
import { listDetail, nameDetail, nothingToCheck, verdict, type Criterion } from './criterion.js'

/**
 * A reused code-execution container belongs to the principal whose response created it
 * (anthropic-api.md §9.3): it holds that principal's files and the skills mounted for it. Another
 * principal is denied, and so is an id with no known owner: the `skills` a request lists describe
 * what it asks for, not what the container already holds, so they cannot stand in for the owner.
 * Not configurable: it applies to every allow rule.
 */
export const containerCriterion: Criterion = {
  name: 'container',
  compile() {
    return function checkContainers({ facts, principal, containerOwner }) {
      const reused = facts.bodies.flatMap((body) => (body.container === undefined ? [] : [{ id: body.container, at: body.at }]))
      if (reused.length === 0) return nothingToCheck
      const denied: Reason[] = []
      for (const { id, at } of reused) {
        const owner = id === '' ? undefined : containerOwner(id)
        if (owner === undefined) denied.push({ code: 'container-owner-unknown', detail: nameDetail(id, at) })
        // The other principal is not named: the client learns only that the container is not its own.
        else if (owner !== principal) denied.push({ code: 'container-not-owned', detail: nameDetail(id, at) })
      }
      return verdict([{ code: 'container-owned', detail: listDetail(reused.map((r) => r.id)) }], denied)
    }
  },
}
