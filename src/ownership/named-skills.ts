import type { PolicySource } from '../policy/input.js'

/**
 * The custom skills each rule names in `allow.skills` (an alias of `skills:`, a configured skill's
 * id, or `custom:ID`), by rule id: skill management under a rule is limited to these and to the
 * skills its principal created through the gateway. Anthropic skills are read-only upstream.
 */
export function namedCustomSkills(config: PolicySource): ReadonlyMap<string, ReadonlySet<string>> {
  const byRule = new Map<string, ReadonlySet<string>>()
  for (const rule of config.rules) {
    const ids = new Set<string>()
    for (const entry of rule.allow?.skills ?? []) {
      const configured = Object.hasOwn(config.skills, entry) ? config.skills[entry] : Object.values(config.skills).find((s) => s.id === entry)
      if (configured?.type === 'custom') ids.add(configured.id)
      else if (entry.startsWith('custom:')) ids.add(entry.slice('custom:'.length))
    }
    byRule.set(rule.id, ids)
  }
  return byRule
}
