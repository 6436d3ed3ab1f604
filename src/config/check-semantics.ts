import type { ParsedConfig, RuleConfig } from './schema.js'
import { checkMaskingConfig } from './check-masking.js'
import { checkPolicyConfig } from '../policy/check-config.js'
import { checkMcpConfig } from '../mcp/check-config.js'

/** One problem found in a configuration file; `path` uses the YAML's own keys and indices. */
export interface ConfigProblem {
  readonly path: (string | number)[]
  readonly message: string
  readonly hint?: string
}

const symmetricOrNone = /^(none|HS\d+)$/i
const modelEndpoints = new Set(['messages', 'count_tokens', 'batches'])
const prefixDelimiters = new Set([':', '/', '@'])
/** The issuer id the gateway reports for its own minted tokens (identity/gateway-token.ts GATEWAY_ISSUER_ID). */
const RESERVED_ISSUER_ID = 'skillgate'

/**
 * Checks that need more than one key at a time (references between sections, the tenant-pinning rule,
 * rules that would identify nobody). Pure: it reports, it changes nothing, and it never stops early.
 */
export function checkSemantics(config: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  checkUpstream(config, problems)
  checkIssuers(config, problems)
  checkGatewayTokens(config, problems)
  checkSamlIssuers(config, problems)
  checkReservedIssuerIds(config, problems)
  checkRules(config, problems)
  problems.push(...checkPolicyConfig(config))
  problems.push(...checkMaskingConfig(config.masking))
  problems.push(...checkMcpConfig(config))
  return problems
}

function checkUpstream(config: ParsedConfig, problems: ConfigProblem[]): void {
  const { upstream } = config
  if ((upstream.apiKey === undefined) === (upstream.federation === undefined)) {
    problems.push({
      path: ['upstream'],
      message: 'set exactly one upstream credential: apiKey or federation',
      hint: 'e.g. apiKey: { fromEnv: ANTHROPIC_API_KEY }',
    })
  }
  const url = new URL(upstream.url)
  if (url.protocol !== 'https:' && !isLoopback(url.hostname)) {
    problems.push({ path: ['upstream', 'url'], message: 'the upstream must use https (plain http only on a loopback address)' })
  }
  if (url.pathname !== '/' || url.search || url.hash) {
    problems.push({ path: ['upstream', 'url'], message: 'the upstream url is an origin only (no path, query or fragment)' })
  }
}

function checkIssuers(config: ParsedConfig, problems: ConfigProblem[]): void {
  const ids = new Set<string>()
  const urls = new Set<string>()
  config.issuers.forEach((issuer, index) => {
    const at = ['issuers', index]
    if (ids.has(issuer.id)) problems.push({ path: [...at, 'id'], message: `duplicate issuer id "${issuer.id}"` })
    if (urls.has(issuer.issuer)) problems.push({ path: [...at, 'issuer'], message: `issuer ${issuer.issuer} is configured twice` })
    ids.add(issuer.id)
    urls.add(issuer.issuer)
    if (issuer.clockSkew > 300_000) problems.push({ path: [...at, 'clockSkew'], message: 'clockSkew above 5m is not allowed (single-use entries are kept 5m past exp)' })
    issuer.algorithms.forEach((alg, i) => {
      if (symmetricOrNone.test(alg)) {
        problems.push({ path: [...at, 'algorithms', i], message: `algorithm ${alg} is not allowed for workload tokens`, hint: 'use asymmetric algorithms such as RS256 or ES256 (RFC 8725 §3.2)' })
      }
    })
    const remote = issuer.jwks.uri ?? (issuer.jwks.discovery ? issuer.issuer : undefined)
    if (remote !== undefined && !issuer.insecureAllowHttp && !remote.startsWith('https://')) {
      problems.push({ path: [...at, 'jwks'], message: 'keys must be fetched over https', hint: 'for a local test issuer set insecureAllowHttp: true' })
    }
  })
}

function checkGatewayTokens(config: ParsedConfig, problems: ConfigProblem[]): void {
  const tokens = config.gatewayTokens
  if (tokens.ttl < 60_000) problems.push({ path: ['gatewayTokens', 'ttl'], message: 'gateway tokens must live at least 60s', hint: 'the SDKs refresh 120 s before expiry; 5m is a good default' })
  if (tokens.rotateAfter < tokens.ttl) problems.push({ path: ['gatewayTokens', 'rotateAfter'], message: 'rotateAfter must be at least ttl' })
  // Each replica would mint with its own key file: a token exchanged at one is 401 at the next (issue #14).
  if (config.storage.url.startsWith('postgres') && tokens.signingKey === undefined && tokens.keyEncryption === undefined) {
    problems.push({
      path: ['gatewayTokens', 'keyEncryption'],
      message: 'a PostgreSQL store needs gatewayTokens.keyEncryption (signing keys kept in the store) or a signingKey file shared by every replica',
      hint: 'openssl rand -base64 32 > kek; then gatewayTokens: { keyEncryption: { fromFile: kek } } (or fromEnv)',
    })
  }
}

/** A SAML issuer is found by its entity ID and named by its id: both must be unique (a clash made every exchange fail). */
function checkSamlIssuers(config: ParsedConfig, problems: ConfigProblem[]): void {
  const ids = new Set<string>()
  const entityIds = new Set<string>()
  config.samlIssuers.forEach((saml, i) => {
    const at = ['samlIssuers', i]
    if (config.issuers.some((issuer) => issuer.id === saml.id)) problems.push({ path: [...at, 'id'], message: `issuer id "${saml.id}" is used by an OIDC issuer too` })
    if (ids.has(saml.id)) problems.push({ path: [...at, 'id'], message: `duplicate SAML issuer id "${saml.id}"` })
    if (entityIds.has(saml.entityId)) problems.push({ path: [...at, 'entityId'], message: `SAML entityId ${saml.entityId} is configured twice` })
    ids.add(saml.id)
    entityIds.add(saml.entityId)
    if (saml.clockSkew > 300_000) problems.push({ path: [...at, 'clockSkew'], message: 'clockSkew above 5m is not allowed (single-use entries are kept until exp + clockSkew)' })
  })
}

/** `skillgate` names the gateway's own tokens in logs and the audit; an external issuer must not share it. */
function checkReservedIssuerIds(config: ParsedConfig, problems: ConfigProblem[]): void {
  const sections = [['issuers', config.issuers], ['samlIssuers', config.samlIssuers], ['admin', config.admin.issuers]] as const
  for (const [section, issuers] of sections) {
    issuers.forEach((issuer, i) => {
      if (issuer.id !== RESERVED_ISSUER_ID) return
      const path = section === 'admin' ? ['admin', 'issuers', i, 'id'] : [section, i, 'id']
      problems.push({ path, message: `issuer id "${RESERVED_ISSUER_ID}" is reserved for the gateway's own tokens`, hint: 'name the issuer after its provider, e.g. "github" or "corp-idp"' })
    })
  }
}

function checkRules(config: ParsedConfig, problems: ConfigProblem[]): void {
  // The first issuer of an id wins (a duplicate is reported on its own); SAML IdPs share the id space.
  const issuers = new Map<string, { id: string; tenantClaims: string[] }>(
    [...config.issuers, ...config.samlIssuers.map((saml) => ({ ...saml, tenantClaims: [] }))].toReversed().map((issuer) => [issuer.id, issuer]),
  )
  const ruleIds = new Set<string>()
  config.rules.forEach((rule, index) => {
    const at = ['rules', index]
    if (ruleIds.has(rule.id)) problems.push({ path: [...at, 'id'], message: `duplicate rule id "${rule.id}"` })
    ruleIds.add(rule.id)
    const issuer = issuers.get(rule.issuer)
    if (!issuer) {
      problems.push({ path: [...at, 'issuer'], message: `unknown issuer "${rule.issuer}"`, hint: `one of: ${[...issuers.keys()].join(', ') || '(no issuers configured)'}` })
    }
    checkMatch(rule, at, problems)
    if (rule.effect === 'deny') {
      if (rule.allow || rule.principal || rule.approval || rule.limits) {
        problems.push({ path: at, message: 'a deny rule takes only id, issuer, effect and match' })
      }
      return
    }
    checkAllowRule(config, rule, at, problems)
    if (issuer && issuer.tenantClaims.length > 0 && !issuer.tenantClaims.some((claim) => rule.match.claims?.[claim] !== undefined)) {
      problems.push({
        path: [...at, 'match', 'claims'],
        message: `issuer "${issuer.id}" is shared by many tenants: the rule must pin one of ${issuer.tenantClaims.join(', ')}`,
        hint: `e.g. claims: { ${issuer.tenantClaims[0]}: "<your id>" }`,
      })
    }
  })
}

function checkMatch(rule: RuleConfig, at: (string | number)[], problems: ConfigProblem[]): void {
  const { subject, claims, condition } = rule.match
  if (subject === undefined && claims === undefined && condition === undefined) {
    problems.push({ path: [...at, 'match'], message: 'the rule matches every token of its issuer: an audience alone identifies nobody', hint: 'pin a subject, claims or a condition' })
  }
  if (subject !== undefined) {
    const star = subject.indexOf('*')
    if (star !== -1 && (star !== subject.length - 1 || !prefixDelimiters.has(subject.at(-2) ?? ''))) {
      problems.push({ path: [...at, 'match', 'subject'], message: 'a subject prefix must end in "*" right after ":", "/" or "@"', hint: 'e.g. "repo:acme/app:ref:refs/heads/*"' })
    }
  }
  if (rule.principal !== undefined) {
    const template = rule.principal.replace(/\{[A-Za-z0-9_.:-]+\}/g, '')
    if (/[{}]/.test(template)) {
      problems.push({ path: [...at, 'principal'], message: 'placeholders are {claim_name}; unbalanced or empty braces found' })
    }
  }
}

function checkAllowRule(config: ParsedConfig, rule: RuleConfig, at: (string | number)[], problems: ConfigProblem[]): void {
  if (!rule.allow) {
    problems.push({ path: [...at, 'allow'], message: 'an allow rule must say what it allows', hint: 'allow: { endpoints: [messages], models: ["claude-sonnet-*"] }' })
    return
  }
  // An MCP-only rule (allow.mcp, no endpoints) is valid and grants nothing on /v1 (docs/mcp.md).
  if (rule.allow.endpoints.length === 0 && Object.keys(rule.allow.mcp ?? {}).length === 0) {
    problems.push({ path: [...at, 'allow', 'endpoints'], message: 'the rule grants no endpoint and no MCP server', hint: 'allow: { endpoints: [messages] }, or allow: { mcp: { <server id>: { tools: [...] } } } for an MCP-only rule' })
  }
  if (rule.allow.endpoints.some((e) => modelEndpoints.has(e)) && rule.allow.models.length === 0) {
    problems.push({ path: [...at, 'allow', 'models'], message: 'the rule grants a model endpoint but no model', hint: 'list model globs, e.g. ["claude-sonnet-*"], or ["*"] for every model' })
  }
  rule.masking?.forEach((profile, i) => {
    if (!config.masking?.profiles[profile]) problems.push({ path: [...at, 'masking', i], message: `unknown masking profile "${profile}"` })
  })
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname)
}
