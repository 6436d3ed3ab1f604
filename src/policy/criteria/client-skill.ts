import { compileGlob } from '../glob.js'
import type { Reason } from '../reasons.js'
import { listDetail, nameDetail, nothingToCheck, verdict, type Criterion } from './criterion.js'

/**
 * `allow.clientSkills`: Claude Code's own skills are a client tool, `Skill {skill}`, so they never
 * appear in `container.skills` (anthropic-api.md §13.2). The model's call comes back in the next
 * request as an assistant `tool_use`; refusing that request keeps the skill's result (its SKILL.md
 * body and what it did) from reaching the model. Checked on every turn that carries the call.
 */
export const clientSkillCriterion: Criterion = {
  name: 'client-skill',
  compile(allow) {
    const globs = (allow.clientSkills ?? []).map(compileGlob)
    return function checkClientSkills({ facts }) {
      const used = facts.bodies.flatMap((body) => body.clientSkills.map((name) => ({ name, at: body.at })))
      if (used.length === 0) return nothingToCheck
      const denied: Reason[] = used
        .filter(({ name }) => name === '' || !globs.some((match) => match(name)))
        .map(({ name, at }) => ({ code: 'client-skill-not-granted', detail: nameDetail(name, at) }))
      return verdict([{ code: 'client-skill-granted', detail: listDetail(used.map((u) => u.name)) }], denied)
    }
  },
}
