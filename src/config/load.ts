import { auditKeyProblems } from './check-audit-keys.js'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LineCounter, parseDocument, isNode } from 'yaml'
import { checkSemantics, type ConfigProblem } from './check-semantics.js'
import { configSchema, type ParsedConfig } from './schema.js'
import { decodeKeyEncryptionKey } from '../identity/gateway-token-sealing.js'
import { Secret, type SecretRef } from './secret-source.js'
import { problemsBeyondSchema } from './validation-report.js'

/** Secrets the running gateway needs, resolved once at load. */
export interface ResolvedSecrets {
  readonly upstreamApiKey?: Secret
  readonly upstreamIdentityToken?: Secret
  readonly adminTokens: readonly Secret[]
  /** By index of `samlIssuers`: the trusted signing certificates. */
  readonly samlCertificates: readonly (readonly Secret[])[]
  /** By index of `notify`; undefined where a webhook has no secret. */
  readonly notifySecrets: readonly (Secret | undefined)[]
  /** By index of `admin.issuers`: the sign-in client secret; undefined without `login`. */
  readonly adminLoginSecrets: readonly (Secret | undefined)[]
  /** By index of `notify`: a Slack app entry's bot token and signing secret; undefined for webhooks. */
  readonly notifySlack: readonly ({ readonly botToken: Secret; readonly signingSecret: Secret } | undefined)[]
  /** By index of `audit.sinks`; undefined where a sink has no secret. */
  readonly auditSinkSecrets: readonly (Secret | undefined)[]
  /** `gatewayTokens.keyEncryption`, the sealing key first (each checked to be 32 bytes of base64); empty when unset. */
  readonly keyEncryption: readonly Secret[]
  /** By rule id: the credential of a rule with its own `upstream`. */
  readonly ruleUpstream: Readonly<Record<string, { readonly apiKey?: Secret; readonly identityToken?: Secret }>>
  /** By `mcpServers` id: the bearer token or client secret the gateway sends that server. */
  readonly mcpServers?: Readonly<Record<string, Secret>>
}

/** The loaded, validated configuration; deep-frozen at run time, so any write throws. */
export type Config = Readonly<ParsedConfig> & {
  readonly secrets: ResolvedSecrets
  /** Where it came from, for logs and `config validate`. */
  readonly source: string
}

export interface LocatedProblem extends ConfigProblem {
  readonly line?: number
}

export type LoadResult = { ok: true; config: Config } | { ok: false; source: string; problems: LocatedProblem[] }

/** The bundled example, used when neither --config, $SKILLGATE_CONFIG nor ./skillgate.yaml exist. */
export const bundledConfigPath = resolve(dirname(fileURLToPath(import.meta.url)), '../../config/skillgate.example.yaml')

export function chooseConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit)
  if (env.SKILLGATE_CONFIG) return resolve(env.SKILLGATE_CONFIG)
  if (existsSync('skillgate.yaml')) return resolve('skillgate.yaml')
  return bundledConfigPath
}

export interface LoadOptions {
  /** False for offline commands (token mint, policy explain, `config validate --offline`): secrets are not read. */
  readonly resolveSecrets?: boolean
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): LoadResult {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    return { ok: false, source: path, problems: [{ path: [], message: `cannot read ${path} (${code})` }] }
  }
  return loadConfigText(text, path, env, options)
}

/** Parses, validates and freezes; reports every problem at once with its path and line. */
export function loadConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): LoadResult {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({ path: [], message: `YAML: ${e.message.split('\n')[0]}`, line: lineCounter.linePos(e.pos[0]).line }))
    return { ok: false, source, problems }
  }
  const raw: unknown = doc.toJS() ?? {}
  const parsed = configSchema.safeParse(raw)
  // A missing key has no node: its line is the one of the nearest thing that is there (its mapping).
  const locate = (problem: ConfigProblem): LocatedProblem => {
    for (let depth = problem.path.length; depth >= 0; depth--) {
      const node = doc.getIn(problem.path.slice(0, depth), true)
      const range = isNode(node) ? node.range : undefined
      if (range) return { ...problem, line: lineCounter.linePos(range[0]).line }
    }
    return problem
  }
  const wantSecrets = options.resolveSecrets !== false
  if (!parsed.success) {
    const meaning = (config: ParsedConfig): ConfigProblem[] => {
      const problems = checkSemantics(config)
      if (wantSecrets) resolveSecrets(config, env, problems)
      return problems
    }
    const problems = problemsBeyondSchema(raw, parsed.error, { parse: (value) => configSchema.safeParse(value), checkMeaning: meaning })
    return { ok: false, source, problems: problems.map(locate) }
  }
  const problems: ConfigProblem[] = checkSemantics(parsed.data)
  const secrets: ResolvedSecrets = wantSecrets ? resolveSecrets(parsed.data, env, problems) : { adminTokens: [], auditSinkSecrets: [], samlCertificates: [], notifySecrets: [], notifySlack: [], adminLoginSecrets: [], keyEncryption: [], ruleUpstream: {} }
  if (problems.length > 0) return { ok: false, source, problems: problems.map(locate) }
  const config = deepFreeze({ ...parsed.data, secrets, source }) as Config
  return { ok: true, config }
}

function resolveSecrets(config: ParsedConfig, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): ResolvedSecrets {
  const resolveAt = (ref: SecretRef | undefined, path: (string | number)[]): Secret | undefined => {
    if (!ref) return undefined
    try {
      return Secret.resolve(ref, env)
    } catch (error) {
      problems.push({ path, message: (error as Error).message, hint: 'secrets come from { fromEnv }, { fromFile } or, in tests, { value }' })
      return undefined
    }
  }
  const upstreamApiKey = resolveAt(asRef(config.upstream.apiKey), ['upstream', 'apiKey'])
  const upstreamIdentityToken = resolveAt(asRef(config.upstream.federation?.identityToken), ['upstream', 'federation', 'identityToken'])
  const adminTokens = config.admin.tokens.flatMap((t, i) => resolveAt(asRef(t.secret), ['admin', 'tokens', i, 'secret']) ?? [])
  const auditSinkSecrets = config.audit.sinks.map((sink, i) => ('webhook' in sink ? resolveAt(asRef(sink.webhook.secret), ['audit', 'sinks', i, 'webhook', 'secret']) : undefined))
  const samlCertificates = config.samlIssuers.map((saml, i) => saml.certificates.flatMap((ref, k) => resolveAt(asRef(ref), ['samlIssuers', i, 'certificates', k]) ?? []))
  const notifySecrets = config.notify.map((n, i) => ('webhook' in n ? resolveAt(asRef(n.webhook.secret), ['notify', i, 'webhook', 'secret']) : undefined))
  const notifySlack = config.notify.map((n, i) => {
    if (!('slack' in n)) return undefined
    const botToken = resolveAt(asRef(n.slack.botToken), ['notify', i, 'slack', 'botToken'])
    const signingSecret = resolveAt(asRef(n.slack.signingSecret), ['notify', i, 'slack', 'signingSecret'])
    return botToken && signingSecret ? { botToken, signingSecret } : undefined
  })
  const adminLoginSecrets = config.admin.issuers.map((issuer, i) => resolveAt(asRef(issuer.login?.clientSecret), ['admin', 'issuers', i, 'login', 'clientSecret']))
  const keyEncryption = resolveKeyEncryption(config, resolveAt, problems)
  const signing = config.audit.signing
  problems.push(
    ...auditKeyProblems({
      signingKey: resolveAt(asRef(signing?.key), ['audit', 'signing', 'key'])?.reveal(),
      previousKeys: (signing?.previousKeys ?? []).map((ref, i) => resolveAt(asRef(ref), ['audit', 'signing', 'previousKeys', i])?.reveal()),
      tsaTrust: resolveAt(asRef(config.audit.timestamping?.trust), ['audit', 'timestamping', 'trust'])?.reveal(),
    }),
  )
  const ruleUpstream = Object.fromEntries(
    config.rules.flatMap((rule, i) => {
      if (!rule.upstream) return []
      const apiKey = resolveAt(asRef(rule.upstream.apiKey), ['rules', i, 'upstream', 'apiKey'])
      const identityToken = resolveAt(asRef(rule.upstream.federation?.identityToken), ['rules', i, 'upstream', 'federation', 'identityToken'])
      return [[rule.id, { ...(apiKey ? { apiKey } : {}), ...(identityToken ? { identityToken } : {}) }] as const]
    }),
  )
  const mcpServers = Object.fromEntries(
    config.mcpServers.flatMap((server, i) => {
      const auth = server.auth
      if (auth === undefined) return []
      const secret = 'bearer' in auth ? resolveAt(asRef(auth.bearer), ['mcpServers', i, 'auth', 'bearer']) : resolveAt(asRef(auth.clientCredentials.clientSecret), ['mcpServers', i, 'auth', 'clientCredentials', 'clientSecret'])
      return secret ? [[server.id, secret] as const] : []
    }),
  )
  return {
    mcpServers,
    adminLoginSecrets,
    keyEncryption,
    ruleUpstream,
    notifySecrets,
    notifySlack,
    samlCertificates,
    auditSinkSecrets,
    ...(upstreamApiKey ? { upstreamApiKey } : {}),
    ...(upstreamIdentityToken ? { upstreamIdentityToken } : {}),
    adminTokens,
  }
}

type ResolveAt = (ref: SecretRef | undefined, path: (string | number)[]) => Secret | undefined

/** Each key-encryption key must decode to 32 bytes now: a typo found at start-up, not at the first rotation. */
function resolveKeyEncryption(config: ParsedConfig, resolveAt: ResolveAt, problems: ConfigProblem[]): Secret[] {
  const refs = config.gatewayTokens.keyEncryption
  if (refs === undefined) return []
  const list = Array.isArray(refs) ? refs : [refs]
  return list.flatMap((ref, i) => {
    const path = Array.isArray(refs) ? ['gatewayTokens', 'keyEncryption', i] : ['gatewayTokens', 'keyEncryption']
    const secret = resolveAt(asRef(ref), path)
    if (secret === undefined) return []
    try {
      decodeKeyEncryptionKey(secret.reveal())
    } catch (error) {
      problems.push({ path, message: (error as Error).message })
      return []
    }
    return [secret]
  })
}

function asRef(ref: { fromEnv?: string | undefined; fromFile?: string | undefined; value?: string | undefined } | undefined): SecretRef | undefined {
  if (!ref) return undefined
  if (ref.fromEnv !== undefined) return { fromEnv: ref.fromEnv }
  if (ref.fromFile !== undefined) return { fromFile: ref.fromFile }
  if (ref.value !== undefined) return { value: ref.value }
  return undefined
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/** `✖ message → at path (line N)` plus an indented hint, one block per problem (zod's prettifyError). */
export function formatProblems(problems: readonly LocatedProblem[]): string {
  return problems
    .map((p) => {
      const where = p.path.length ? ` → at ${formatPath(p.path)}` : ''
      const line = p.line !== undefined ? ` (line ${p.line})` : ''
      return `✖ ${p.message}${where}${line}${p.hint ? `\n    hint: ${p.hint}` : ''}`
    })
    .join('\n')
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}
