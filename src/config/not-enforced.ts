import type { ConfigProblem } from './check-semantics.js'
import type { ParsedConfig } from './schema.js'

/**
 * Controls this build cannot enforce yet. A configured control that silently does not apply is worse
 * than a refusal to start (style-anchors §5, "Controls that silently do not apply"), so each one set
 * here is a configuration error until the feature lands. Remove an entry in the commit that enforces it.
 */
const pending = 'this version of skillgate cannot enforce it yet; remove it rather than run without it'

export function notYetEnforced(config: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const flag = (path: (string | number)[], what: string) => problems.push({ path, message: `${what} is not supported yet`, hint: pending })

  config.rules.forEach((rule, i) => {
    const at = ['rules', i]
    if (rule.approval?.required) flag([...at, 'approval'], 'an approval requirement')
    if (rule.limits !== undefined) flag([...at, 'limits'], 'per-principal limits')
  })
  if (config.admin.issuers.length > 0) flag(['admin', 'issuers'], 'human OIDC sign-in for the admin API')
  if (config.notify.length > 0) flag(['notify'], 'notifications')
  return problems
}
