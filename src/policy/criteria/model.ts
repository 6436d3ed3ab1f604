import { compileGlob } from '../glob.js'
import type { Reason } from '../reasons.js'
import { listDetail, nameDetail, nothingToCheck, verdict, type Criterion } from './criterion.js'

/**
 * `allow.models`: every model the request can cause to run matches a glob: the executor `model`
 * (a Messages body without one is denied), advisor tools in `tools` and inline, `fallbacks`, and
 * every `model` of a Managed Agents body. `fallbacks: "default"` lets Anthropic pick, so only a
 * rule that allows `*` grants it.
 */
export const modelCriterion: Criterion = {
  name: 'model',
  compile(allow) {
    const globs = (allow.models ?? []).map(compileGlob)
    const allowsAny = (allow.models ?? []).includes('*')
    const granted = (model: string) => model !== '' && globs.some((match) => match(model))
    return function checkModels({ facts }) {
      const named: string[] = []
      const denied: Reason[] = []
      for (const body of facts.bodies) {
        if (body.model !== undefined) {
          named.push(body.model)
          if (body.model === '') denied.push(body.at === '' ? { code: 'model-missing' } : { code: 'model-missing', detail: body.at })
          else if (!granted(body.model)) denied.push({ code: 'model-not-granted', detail: nameDetail(body.model, body.at) })
        }
        for (const use of body.otherModels) {
          named.push(`${use.model || '(missing or malformed)'} (${use.via})`)
          if (use.anyModel ? !allowsAny : !granted(use.model)) denied.push({ code: 'model-not-granted', detail: nameDetail(`${use.model || '(missing or malformed)'} (${use.via})`, body.at) })
        }
      }
      if (named.length === 0) return nothingToCheck
      return verdict([{ code: 'model-granted', detail: listDetail(named) }], denied)
    }
  },
}
