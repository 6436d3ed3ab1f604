// @ts-check

/**
 * The Policy explain page's first example, built from the running configuration so that it is
 * allowed by it (issue #17: a fixed sample was denied by the demo's own policy): the first allow
 * rule's issuer, a subject and claims its match accepts, the claims its principal template names,
 * and a request for a model, skill and tool it grants. A CEL condition cannot be satisfied
 * generically; such a rule's sample may still be denied, and the page says why.
 * Plain data in and out, so it runs in the browser and in tests alike.
 */

/** Models tried against `allow.models` before a glob is filled in. */
const knownModels = ['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-6']

/**
 * @typedef {{ id: string, issuer: string, effect?: string, match?: { subject?: string, claims?: Record<string, string> },
 *   principal?: string, allow?: { endpoints?: string[], models?: string[], tools?: string[], skills?: string[], maxTokens?: number } }} SampleRule
 * @typedef {{ issuers?: { id: string, issuer: string, audience?: string | string[] }[], rules?: SampleRule[],
 *   skills?: Record<string, { type: string, id: string, versions?: string[] }> }} SampleConfig
 * @typedef {{ issuer: string, claims: Record<string, string>, request: { method: string, path: string, body?: Record<string, unknown> } }} Sample
 */

/**
 * @param {SampleConfig} config
 * @returns {Sample | undefined}
 */
export function explainSample(config) {
  const rule = (config.rules ?? []).find((r) => r.effect !== 'deny' && r.allow)
  const issuer = rule && (config.issuers ?? []).find((i) => i.id === rule.issuer)
  if (!rule || !issuer || !rule.allow) return undefined
  const audience = Array.isArray(issuer.audience) ? issuer.audience[0] : issuer.audience
  /** @type {Record<string, string>} */
  const claims = { iss: issuer.issuer, ...(audience ? { aud: audience } : {}), sub: fill(rule.match?.subject ?? 'example') }
  for (const [name, value] of Object.entries(rule.match?.claims ?? {})) claims[name] = value
  for (const [, name] of (rule.principal ?? '').matchAll(/\{([A-Za-z0-9_.:-]+)\}/g)) if (name && claims[name] === undefined) claims[name] = 'example'
  return { issuer: issuer.id, claims, request: requestFor(rule.allow, config.skills ?? {}) }
}

/**
 * @param {NonNullable<SampleRule['allow']>} allow
 * @param {NonNullable<SampleConfig['skills']>} skills
 */
function requestFor(allow, skills) {
  const endpoints = allow.endpoints ?? []
  if (!endpoints.includes('messages')) return endpoints.includes('models') ? { method: 'GET', path: '/v1/models' } : { method: 'POST', path: '/v1/messages', body: {} }
  const models = allow.models ?? []
  const model = knownModels.find((m) => models.some((glob) => matches(glob, m))) ?? fill(models[0] ?? 'claude-sonnet-4-6')
  /** @type {Record<string, unknown>} */
  const body = { model, max_tokens: Math.min(256, allow.maxTokens ?? 256), messages: [{ role: 'user', content: 'hi' }] }
  const skill = (allow.skills ?? []).map((alias) => skills[alias]).find((s) => s !== undefined)
  if (skill) {
    body.container = { skills: [{ type: skill.type, skill_id: skill.id, version: skill.versions?.[0] ?? 'latest' }] }
    if ((allow.tools ?? []).some((glob) => matches(glob, 'code_execution_20250825'))) body.tools = [{ type: 'code_execution_20250825', name: 'code_execution' }]
  }
  return { method: 'POST', path: '/v1/messages', body }
}

/** A value a `*`-suffixed prefix (or exact value) accepts. @param {string} glob */
const fill = (glob) => (glob.endsWith('*') ? `${glob.slice(0, -1)}example` : glob)

/** `*` matches any run of characters; everything else literally. @param {string} glob @param {string} value */
function matches(glob, value) {
  const parts = glob.split('*')
  if (parts.length === 1) return glob === value
  let at = 0
  for (const [i, part] of parts.entries()) {
    const found = i === 0 ? (value.startsWith(part) ? 0 : -1) : value.indexOf(part, at)
    if (found === -1) return false
    at = found + part.length
  }
  return parts.at(-1) === '' || value.endsWith(parts.at(-1) ?? '')
}
