import { maskingProfileSpec, type MaskingConfig } from '../config/check-masking.js'
import type { Config } from '../config/load.js'
import { compileMasker, type Masker, type MaskingProfileSpec } from '../masking/index.js'
import type { Masking } from '../masking/rule-masking.js'
import { compilePolicy, type Policy } from '../policy/compile.js'

/** A configuration's rules and masking profiles, compiled once (a bad one fails here, before anything opens). */
export interface CompiledRules {
  readonly policy: Policy
  readonly masking: Masking
}

export function compileRules(config: Config): CompiledRules {
  return { policy: compilePolicy(config.rules, config.skills), masking: buildMasking(config) }
}

/** Every rule's masker, and the request guard's, compiled once (never per request). */
export function buildMasking(config: Config): Masking {
  const masking = config.masking
  const thinking = masking?.thinking ?? 'keep'
  const block = masking?.requests?.block ?? []
  const mask = masking?.requests?.mask ?? []
  const byRule = new Map<string, { masker: Masker; detectors: string[] }>()
  for (const rule of config.rules) {
    if (!rule.masking?.length) continue
    const specs = profileSpecs(masking, rule.masking)
    // Built-in detectors and custom patterns alike: the audit copy of a request is masked with the whole profile.
    const detectors = [...new Set(specs.flatMap((s) => [...(s.detectors ?? []), ...(s.patterns ?? []).map((p) => p.name)]))]
    // The audit's set (the rule's names plus the request sets) is compiled now, not on the first request.
    const auditSet = [...new Set([...detectors, ...block, ...mask])]
    byRule.set(rule.id, { masker: compileMasker(specs, { thinking, requestDetectors: [auditSet] }), detectors })
  }
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

function profileSpecs(masking: MaskingConfig | undefined, names: readonly string[]): MaskingProfileSpec[] {
  return names.flatMap((name) => {
    const profile = masking?.profiles[name]
    return profile ? [maskingProfileSpec(name, profile)] : []
  })
}
