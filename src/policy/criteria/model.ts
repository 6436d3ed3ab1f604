import { compileGlob } from '../glob.js'
import type { Reason } from '../reasons.js'
import { listDetail, nameDetail, nothingToCheck, verdict, type Criterion } from './criterion.js'

/** `allow.models`: every model the request would run matches a glob; a body without one is denied. */
export const modelCriterion: Criterion = {
  name: 'model',
  compile(allow) {
    const globs = (allow.models ?? []).map(compileGlob)
    return function checkModels({ facts }) {
      if (facts.bodies.length === 0) return nothingToCheck
      const denied: Reason[] = []
      for (const body of facts.bodies) {
        if (body.model === '') denied.push(body.at === '' ? { code: 'model-missing' } : { code: 'model-missing', detail: body.at })
        else if (!globs.some((match) => match(body.model))) denied.push({ code: 'model-not-granted', detail: nameDetail(body.model, body.at) })
      }
      return verdict([{ code: 'model-granted', detail: listDetail(facts.bodies.map((b) => b.model)) }], denied)
    }
  },
}
