import type { Reason } from '../reasons.js'
import { nothingToCheck, verdict, type Criterion } from './criterion.js'

/**
 * `allow.maxTokens`: `max_tokens` of every body is at most the cap. A body that runs the model
 * without a numeric `max_tokens` is denied (the cap could not be checked); count_tokens has none.
 */
export const maxTokensCriterion: Criterion = {
  name: 'max-tokens',
  compile(allow) {
    const cap = allow.maxTokens
    if (cap === undefined) return () => nothingToCheck
    return function checkMaxTokens({ facts }) {
      const denied: Reason[] = []
      let largest: number | undefined
      for (const body of facts.bodies) {
        const where = body.at === '' ? '' : ` in ${body.at}`
        if (body.maxTokens === undefined) {
          if (body.executes) denied.push({ code: 'max-tokens-missing', detail: `cap ${cap}${where}` })
          continue
        }
        if (body.maxTokens > cap) denied.push({ code: 'max-tokens-exceeded', detail: `${body.maxTokens} > ${cap}${where}` })
        largest = Math.max(largest ?? body.maxTokens, body.maxTokens)
      }
      if (largest === undefined && denied.length === 0) return nothingToCheck
      return verdict([{ code: 'max-tokens-within', detail: `${largest ?? 0} <= ${cap}` }], denied)
    }
  },
}
