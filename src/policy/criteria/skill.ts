import type { SkillCatalog } from '../input.js'
import type { Reason } from '../reasons.js'
import type { BodyFacts, SkillUse } from '../request-facts.js'
import { listDetail, nameDetail, nothingToCheck, verdict, type Criterion, type GrantInput, type GrantProblem } from './criterion.js'

/** A skill a rule grants, resolved from `allow.skills` at load. */
export interface SkillGrant {
  /** How reasons name it: the alias, or `type:id`. */
  readonly label: string
  readonly type: 'custom' | 'anthropic'
  readonly id: string
  /** Absent: any version. */
  readonly versions?: ReadonlySet<string>
}

export type SkillRefResult = { readonly ok: true; readonly grant: SkillGrant } | { readonly ok: false; readonly message: string }

const explicitRef = /^(anthropic|custom):(.+)$/

/**
 * An `allow.skills` entry: an alias (a key of `skills:`), the `id` of a configured skill, or an
 * explicit `anthropic:ID` / `custom:ID` (any version). Ids are never guessed into a type.
 *
 * @example resolveSkillRef('xlsx', { xlsx: { type: 'anthropic', id: 'xlsx' } })
 */
export function resolveSkillRef(entry: string, skills: SkillCatalog): SkillRefResult {
  const byAlias = Object.hasOwn(skills, entry) ? skills[entry] : undefined
  const aliased = byAlias ? ([entry, byAlias] as const) : Object.entries(skills).find(([, skill]) => skill.id === entry)
  if (aliased) {
    const [alias, skill] = aliased
    return { ok: true, grant: { label: alias, type: skill.type, id: skill.id, ...(skill.versions ? { versions: new Set(skill.versions) } : {}) } }
  }
  const explicit = explicitRef.exec(entry)
  if (explicit?.[1] === 'anthropic' || explicit?.[1] === 'custom') {
    return { ok: true, grant: { label: entry, type: explicit[1], id: explicit[2] ?? '' } }
  }
  return { ok: false, message: `unknown skill "${entry}": not an alias or id under skills:, nor anthropic:ID / custom:ID` }
}

/**
 * `allow.skills` and `allow.requireSkill`: every `container.skills[*]` is granted with its type, id
 * and version (no version means `latest`, allowed only where listed). With `requireSkill`, a body
 * that runs the model must carry a granted skill, or reuse a container of its own principal (that
 * container's skills were checked on the request that created it).
 */
export const skillCriterion: Criterion = {
  name: 'skill',
  validate(allow, skills) {
    const problems: GrantProblem[] = []
    allow.skills?.forEach((entry, i) => {
      const resolved = resolveSkillRef(entry, skills)
      if (!resolved.ok) problems.push({ path: ['skills', i], message: resolved.message, hint: 'define an alias under skills:, e.g. xlsx: { type: anthropic, id: xlsx }' })
    })
    return problems
  },
  compile(allow, skills) {
    const grants = (allow.skills ?? []).flatMap((entry) => {
      const resolved = resolveSkillRef(entry, skills)
      return resolved.ok ? [resolved.grant] : []
    })
    const requireSkill = allow.requireSkill === true
    return function checkSkills(input) {
      const granted: Reason[] = []
      const denied: Reason[] = []
      for (const body of input.facts.bodies) {
        for (const use of body.skills) checkUse(grants, use, body.at, granted, denied)
        if (requireSkill && body.executes && body.skills.length === 0 && !ownsContainer(body, input)) {
          denied.push(body.at === '' ? { code: 'skill-required' } : { code: 'skill-required', detail: body.at })
        }
      }
      if (granted.length === 0 && denied.length === 0) return nothingToCheck
      return verdict([{ code: 'skill-granted', detail: listDetail(granted.map((r) => r.detail ?? '')) }], denied)
    }
  },
}

function checkUse(grants: readonly SkillGrant[], use: SkillUse, at: string, granted: Reason[], denied: Reason[]): void {
  const same = grants.filter((grant) => grant.type === use.type && grant.id === use.id && use.id !== '')
  if (same.length === 0) {
    denied.push({ code: 'skill-not-granted', detail: nameDetail(use.type === '' || use.id === '' ? '' : `${use.type}:${use.id}`, at) })
    return
  }
  const pinned = same.find((grant) => grant.versions === undefined || grant.versions.has(use.version))
  if (pinned) granted.push({ code: 'skill-granted', detail: `${pinned.label}@${use.version}` })
  else denied.push({ code: 'skill-version-not-granted', detail: nameDetail(`${same[0]?.label ?? use.id}@${use.version}`, at) })
}

function ownsContainer(body: BodyFacts, input: GrantInput): boolean {
  return body.container !== undefined && body.container !== '' && input.containerOwner(body.container) === input.principal
}

