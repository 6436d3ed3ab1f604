import type { Config } from './config/load.js'
import { compileMasker, MaskingConfigError, type Masker, type MaskingProfileSpec } from './masking/index.js'
import type { ConfigProblem } from './config/check-semantics.js'

/** The maskers a running gateway uses, compiled once at start-up (never per request). */
export interface Masking {
  /** The masker of the rule's `masking:` profiles; undefined when the rule masks nothing. */
  forRule(ruleId: string | undefined): Masker | undefined
  /** For `masking.requests`: detectors that refuse a request, and detectors masked out of it. */
  readonly requests: { readonly masker: Masker; readonly block: readonly string[]; readonly mask: readonly string[] } | undefined
  /** Detector names of a rule's profiles, for masking the audit copy of the request. */
  detectorsForRule(ruleId: string | undefined): readonly string[]
}

type MaskingConfig = NonNullable<Config['masking']>

type ProfileConfig = MaskingConfig['profiles'][string]

/** Config shape → engine shape (optional keys left out rather than set to undefined). */
function toSpec(name: string, profile: ProfileConfig): MaskingProfileSpec {
  return {
    name,
    ...(profile.detectors ? { detectors: profile.detectors } : {}),
    ...(profile.patterns ? { patterns: profile.patterns } : {}),
    ...(profile.fields ? { fields: profile.fields } : {}),
  }
}

function profileSpecs(masking: MaskingConfig | undefined, names: readonly string[]): MaskingProfileSpec[] {
  return names.flatMap((name) => {
    const profile = masking?.profiles[name]
    return profile ? [toSpec(name, profile)] : []
  })
}

export function buildMasking(config: Config): Masking {
  const masking = config.masking
  const thinking = masking?.thinking ?? 'keep'
  const byRule = new Map<string, { masker: Masker; detectors: string[] }>()
  for (const rule of config.rules) {
    if (!rule.masking?.length) continue
    const specs = profileSpecs(masking, rule.masking)
    byRule.set(rule.id, { masker: compileMasker(specs, { thinking }), detectors: [...new Set(specs.flatMap((s) => s.detectors ?? []))] })
  }
  const block = masking?.requests?.block ?? []
  const mask = masking?.requests?.mask ?? []
  const requests =
    block.length + mask.length > 0
      ? { masker: compileMasker([], { thinking, requestDetectors: [block, mask].filter((set) => set.length > 0) }), block, mask }
      : undefined
  return {
    forRule: (ruleId) => (ruleId === undefined ? undefined : byRule.get(ruleId)?.masker),
    requests,
    detectorsForRule: (ruleId) => (ruleId === undefined ? [] : byRule.get(ruleId)?.detectors ?? []),
  }
}

/** Config validation: every profile and the request detector sets must compile (linear-time patterns only). */
export function checkMaskingConfig(masking: MaskingConfig | undefined): ConfigProblem[] {
  if (!masking) return []
  const problems: ConfigProblem[] = []
  for (const [name, profile] of Object.entries(masking.profiles)) {
    try {
      compileMasker([toSpec(name, profile)], { thinking: masking.thinking })
    } catch (error) {
      if (!(error instanceof MaskingConfigError)) throw error
      for (const issue of error.issues) problems.push({ path: ['masking', 'profiles', name], message: `${issue.message} (${issue.path})` })
    }
  }
  const sets = [masking.requests?.block, masking.requests?.mask]
  sets.forEach((set, i) => {
    if (!set?.length) return
    try {
      compileMasker([], { thinking: masking.thinking, requestDetectors: [set] })
    } catch (error) {
      if (!(error instanceof MaskingConfigError)) throw error
      for (const issue of error.issues) problems.push({ path: ['masking', 'requests', i === 0 ? 'block' : 'mask'], message: issue.message })
    }
  })
  return problems
}
