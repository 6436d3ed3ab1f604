import { compileMasker, MaskingConfigError, type MaskingProfileSpec } from '../masking/index.js'
import type { ParsedConfig } from './schema.js'

/** Same shape as check-semantics' ConfigProblem (not imported from there: that module imports this one). */
export interface MaskingConfigProblem {
  readonly path: (string | number)[]
  readonly message: string
}

export type MaskingConfig = NonNullable<ParsedConfig['masking']>

type ProfileConfig = MaskingConfig['profiles'][string]

/** Config shape → engine shape (optional keys left out rather than set to undefined). */
export function maskingProfileSpec(name: string, profile: ProfileConfig): MaskingProfileSpec {
  return {
    name,
    ...(profile.detectors ? { detectors: profile.detectors } : {}),
    ...(profile.patterns ? { patterns: profile.patterns } : {}),
    ...(profile.fields ? { fields: profile.fields } : {}),
  }
}

/** Config validation: every profile and the request detector sets must compile (linear-time patterns only). */
export function checkMaskingConfig(masking: MaskingConfig | undefined): MaskingConfigProblem[] {
  if (!masking) return []
  const problems: MaskingConfigProblem[] = []
  for (const [name, profile] of Object.entries(masking.profiles)) {
    try {
      compileMasker([maskingProfileSpec(name, profile)], { thinking: masking.thinking })
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
