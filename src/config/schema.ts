import { isIP } from 'node:net'
import { z } from 'zod'
import { durationPattern, parseDuration, parseSize, sizePattern } from './units.js'

/**
 * The one definition of skillgate's configuration (SPEC §2). Every object is strict (unknown keys are
 * errors), defaults live here, and `schema/skillgate.schema.json` is generated from it
 * (`npm run schema`; a test fails when the checked-in file is stale).
 */

const durationHint = 'expected a duration such as "30s", "5m", "1h" or "90d"'
const duration = z
  .string({ error: durationHint })
  .regex(durationPattern, durationHint)
  .transform(parseDuration)
  .describe('A duration: a whole number followed by ms, s, m, h or d.')

const sizeHint = 'expected a size such as "32MB" or "512KiB"'
const size = z
  .string({ error: sizeHint })
  .regex(sizePattern, sizeHint)
  .transform(parseSize)
  .describe('A size: a whole number followed by B, KB, MB, GB, KiB, MiB or GiB.')

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'expected an id of lowercase letters, digits, ".", "_" or "-"')

export const secretRefSchema = z
  .strictObject({
    fromEnv: z.string().min(1).optional().describe('Name of an environment variable holding the secret.'),
    fromFile: z.string().min(1).optional().describe('Path of a file holding the secret; re-read when it changes.'),
    value: z.string().min(1).optional().describe('The secret inline. For tests only.'),
  })
  .refine((ref) => [ref.fromEnv, ref.fromFile, ref.value].filter((v) => v !== undefined).length === 1, {
    message: 'a secret is exactly one of { fromEnv }, { fromFile } or { value }',
  })
  .describe('A secret reference, never the secret itself.')

/** An IPv4 or IPv6 address, optionally with a prefix length within the family's width. */
function isAddressOrCidr(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}

const listenSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8080),
    maxBody: size.prefault('32MB').describe('Largest accepted request body; larger ones get 413.'),
    drainTimeout: duration.prefault('30s').describe('How long a shutdown waits for requests and streams in flight.'),
    shutdownDelay: duration.prefault('0s').describe('On SIGTERM, keep serving with /readyz at 503 this long before closing (load balancer catch-up).'),
    headersTimeout: duration
      .prefault('30s')
      .refine((ms) => ms > 0, 'headersTimeout must be longer than 0')
      .describe('Longest time from a connection\'s first request byte (or its opening) until the request headers are complete; then 408 and the connection closes.'),
    requestTimeout: duration
      .prefault('5m')
      .refine((ms) => ms > 0, 'requestTimeout must be longer than 0')
      .describe('Longest time to receive a whole request, headers and body (not the response); then 408 and the connection closes.'),
    bodyTimeout: duration
      .prefault('30s')
      .refine((ms) => ms > 0, 'bodyTimeout must be longer than 0')
      .describe('A /v1 request body must keep arriving: a longer pause between two chunks ends the request with 408.'),
    maxConnections: z.number().int().min(1).default(1024).describe('Open client connections at most, per process (each of --workers has its own); further connections are closed at once (skillgate_connections_dropped_total).'),
    unauthenticatedPerMinute: z
      .number()
      .int()
      .min(1)
      .default(300)
      .describe('Unauthenticated refusals one client address may cause per minute (on /v1/*, the token endpoint and the admin API, console sign-in and Slack endpoint together); beyond that its requests there get 429 without being checked until the minute ends.'),
    trustedProxies: z
      .array(z.string().refine(isAddressOrCidr, 'expected an IP address or a CIDR range such as "10.0.0.0/8"'))
      .default([])
      .describe('Addresses or CIDR ranges of proxies whose X-Forwarded-For names the client; empty: the connection\'s address is the client.'),
  })
  .refine((listen) => listen.headersTimeout <= listen.requestTimeout, { message: 'listen.headersTimeout must not exceed listen.requestTimeout', path: ['headersTimeout'] })
  .prefault({})

const timeoutsSchema = z
  .strictObject({
    connect: duration.prefault('10s'),
    firstByte: duration.prefault('10m'),
    idle: duration.prefault('5m'),
  })
  .prefault({})

const federationSchema = z.strictObject({
  identityToken: secretRefSchema,
  ruleId: z.string().min(1),
  organizationId: z.string().min(1),
  serviceAccountId: z.string().min(1).optional(),
  workspaceId: z.string().min(1).optional(),
})

const upstreamSchema = z.strictObject({
  url: z.url().default('https://api.anthropic.com').describe('Fixed by config; never chosen by a client.'),
  apiKey: secretRefSchema.optional(),
  federation: federationSchema.optional(),
  timeouts: timeoutsSchema,
  connections: z.number().int().min(1).max(4_096).default(256).describe('Upper bound of pooled upstream connections.'),
})

const storageSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, 'expected sqlite:PATH or postgres://…')
      .default('sqlite:./data/skillgate.db'),
    writerLease: duration.prefault('30s').describe('A crashed writer\'s open audit records become "interrupted" after this.'),
  })
  .prefault({})

const jwksSchema = z
  .strictObject({
    discovery: z.literal(true).optional(),
    uri: z.url().optional(),
    file: z.string().min(1).optional(),
    keys: z.array(z.record(z.string(), z.unknown())).min(1).optional(),
  })
  .refine((j) => [j.discovery, j.uri, j.file, j.keys].filter((v) => v !== undefined).length === 1, {
    message: 'jwks is exactly one of { discovery: true }, { uri }, { file } or { keys }',
  })

const issuerShape = {
  id,
  issuer: z.string().min(1).describe('Exact match on the token iss; a trailing slash is another issuer.'),
  jwks: jwksSchema.default({ discovery: true }),
  audience: z.string().min(1).describe('The single, gateway-specific audience tokens must carry.'),
  algorithms: z.array(z.string().min(1)).min(1).default(['RS256', 'ES256']),
  typ: z.string().min(1).optional().describe('Required JWT header typ, e.g. "at+jwt" for RFC 9068 tokens.'),
  maxLifetime: duration.prefault('15m').describe('Largest allowed exp - iat.'),
  maxAge: duration.optional().describe('Largest allowed now - iat.'),
  clockSkew: duration.prefault('30s'),
  requiredClaims: z.array(z.string().min(1)).default(['sub', 'iat', 'exp']),
  tenantClaims: z.array(z.string().min(1)).default([]).describe('Shared issuer: every allow rule must pin one of these.'),
  direct: z.boolean().default(false).describe('Accept the token itself on /v1/*; otherwise it must be exchanged.'),
  singleUse: z.boolean().default(false).describe('Exchange an assertion (iss, jti) at most once.'),
  insecureAllowHttp: z.boolean().default(false).describe('Allow plain http for discovery/JWKS (local issuers only).'),
}

const issuerSchema = z.strictObject(issuerShape)

const skillSchema = z.strictObject({
  type: z.enum(['custom', 'anthropic']),
  id: z.string().min(1),
  versions: z.array(z.string().min(1)).optional(),
})

export const endpointNames = [
  'messages',
  'count_tokens',
  'models',
  'batches',
  'files',
  'skills.read',
  'skills.manage',
  // Managed Agents (claude-api-2026.md §4): the agent loop runs inside Anthropic; default deny.
  'agents.read',
  'agents.manage',
  'environments',
  'sessions',
  'deployments',
  'vaults',
  'memory_stores',
  'tunnels',
] as const

/** An MCP server id: the path segment of /mcp/{id}. */
const mcpServerId = z.string().regex(/^[a-z0-9-]{1,63}$/, 'expected an MCP server id of lowercase letters, digits or "-"')

const mcpServerSchema = z.strictObject({
  id: mcpServerId,
  url: z.url().describe('The upstream MCP server (streamable HTTP), e.g. https://mcp.example.com/mcp.'),
  auth: z
    .union([
      z.strictObject({ bearer: secretRefSchema.describe('A static bearer token the gateway sends upstream.') }),
      z.strictObject({
        clientCredentials: z.strictObject({
          tokenUrl: z.url(),
          clientId: z.string().min(1),
          clientSecret: secretRefSchema,
          scope: z.string().min(1).optional(),
        }),
      }),
    ])
    .optional()
    .describe("The gateway's own credential for this server (clients never see it); none for an open server."),
  limits: z
    .strictObject({
      maxMessage: size.prefault('1MiB').describe('Largest JSON-RPC message (or batch) a client may send; larger is a 413.'),
      maxResponse: size.prefault('8MiB').describe('Most bytes read from the server for one client request; past it the call fails and the connection is closed.'),
      timeout: duration.prefault('60s').describe('Longest one client request may take upstream (a held approval not counted).'),
    })
    .prefault({}),
})

const allowSchema = z.strictObject({
  endpoints: z
    .array(z.enum(endpointNames))
    .default([])
    .describe('The /v1 endpoints this rule grants; may be left out only by a rule that grants MCP servers (allow.mcp), which then allows nothing on /v1.'),
  skills: z.array(z.string().min(1)).optional(),
  requireSkill: z.boolean().optional(),
  models: z.array(z.string().min(1)).default([]).describe('Model globs ("*" matches any run of characters).'),
  tools: z.array(z.string().min(1)).optional(),
  mcpServers: z
    .array(z.union([z.string().min(1), z.strictObject({ url: z.string().min(1), tools: z.array(z.string().min(1)) })]))
    .optional()
    .describe('MCP connector servers: a URL prefix grants every tool; { url, tools: [globs] } only those tools.'),
  maxTokens: z.number().int().positive().optional(),
  clientSkills: z.array(z.string().min(1)).optional().describe('Claude Code Skill tool: skill names (globs) the model may invoke.'),
  mcp: z
    .record(
      mcpServerId,
      z.strictObject({
        tools: z.array(z.string().min(1)).min(1).describe('Tool name globs this rule may list and call on that server.'),
        condition: z.string().min(1).max(4_096).optional().describe('CEL over claims, tool (the name) and arguments; false or an error refuses the call.'),
      }),
    )
    .optional()
    .describe('MCP servers of mcpServers this rule may use through /mcp/{id}: by server id, the granted tools (docs/mcp.md).'),
})

const approvalSchema = z.strictObject({
  required: z.boolean().default(false),
  approvers: z.array(z.string().min(1)).optional(),
  grantTtl: duration.optional(),
  hold: duration.optional(),
  uses: z.number().int().positive().optional(),
  mcpTools: z
    .array(z.string().min(1))
    .optional()
    .describe('MCP tool calls that need a human, as "<server id>/<tool glob>"; each approval is bound to the server, tool and arguments (docs/mcp.md).'),
})

const limitsSchema = z.strictObject({
  requestsPerMinute: z.number().int().positive().optional(),
  inputTokensPerDay: z.number().int().positive().optional(),
  outputTokensPerDay: z.number().int().positive().optional(),
  concurrentStreams: z.number().int().positive().optional(),
})

/** A rule's own upstream credential (issue #12): its calls go out under another key or workspace. */
const ruleUpstreamSchema = z
  .strictObject({
    apiKey: secretRefSchema.optional(),
    federation: federationSchema.optional(),
  })
  .refine((u) => (u.apiKey === undefined) !== (u.federation === undefined), { message: 'set exactly one: apiKey or federation' })
  .describe("This rule's own upstream credential (apiKey or federation), instead of upstream's: its objects live in that key's workspace.")

const ruleSchema = z.strictObject({
  id,
  issuer: id.describe('The id of an entry of issuers.'),
  effect: z.enum(['allow', 'deny']).default('allow'),
  match: z
    .strictObject({
      subject: z.string().min(1).optional().describe('Exact sub, or a prefix ending in "*" after ":", "/" or "@".'),
      claims: z.record(z.string(), z.string()).optional().describe('Exact string values.'),
      condition: z.string().min(1).max(4_096).optional().describe('CEL over claims; an error never allows.'),
    })
    .default({}),
  principal: z.string().min(1).optional().describe('Principal template, e.g. "gha:{repository_owner_id}/{repository_id}".'),
  allow: allowSchema.optional(),
  approval: approvalSchema.optional(),
  limits: limitsSchema.optional(),
  masking: z.array(z.string().min(1)).optional(),
  upstream: ruleUpstreamSchema.optional(),
  mcp: z
    .strictObject({
      connector: z
        .enum(['direct', 'gateway'])
        .default('direct')
        .describe('gateway: mcp_servers[].url "skillgate:{id}" is rewritten to mcp.publicUrl/mcp/{id} with a capability token bound to the request (docs/mcp-connector.md).'),
    })
    .optional()
    .describe("How Claude's MCP connector reaches MCP servers for this rule's /v1/messages requests."),
})

const patternSchema = z.strictObject({
  name: z.string().min(1),
  regex: z.string().min(1),
  maxLength: z.number().int().min(1).max(4_096),
})

const maskingSchema = z.strictObject({
  profiles: z
    .record(
      z.string(),
      z.strictObject({
        detectors: z.array(z.string().min(1)).optional(),
        patterns: z.array(patternSchema).optional(),
        fields: z.array(z.string().min(1)).optional(),
      }),
    )
    .default({}),
  requests: z
    .strictObject({ block: z.array(z.string().min(1)).optional(), mask: z.array(z.string().min(1)).optional() })
    .optional(),
  thinking: z.enum(['keep', 'mask']).default('keep'),
})

const webhookSchema = z.strictObject({
  url: z.url(),
  secret: secretRefSchema.optional(),
  format: z.enum(['json', 'slack']).optional(),
})

const adminRole = z.enum(['admin', 'approver', 'auditor'])

const slackApproverSchema = z
  .strictObject({
    name: z.string().min(1).max(200).describe('The person, as the audit, the console and the Slack message name them.'),
    email: z.string().min(3).max(320).optional(),
    roles: z.array(adminRole).min(1).default(['approver']).describe("Held in Slack; a review still needs one of its rule's approvers roles."),
    issuer: z.string().min(1).optional().describe('Their OIDC iss: with subject, a review their own token opened is refused to them.'),
    subject: z.string().min(1).optional().describe('Their OIDC sub (with issuer).'),
  })
  .refine((a) => (a.issuer === undefined) === (a.subject === undefined), { message: 'issuer and subject are set together' })

const slackNotifySchema = z.strictObject({
  botToken: secretRefSchema.describe('The Slack app bot token (xoxb-…): chat.postMessage and chat.update.'),
  signingSecret: secretRefSchema.describe("The Slack app's signing secret: POST /admin/slack/interactions verifies every click with it."),
  channel: z.string().min(1).describe('Channel id (C…) the bot posts reviews to; the bot must be a member.'),
  approvers: z
    .record(z.string().regex(/^[UW][A-Z0-9]{2,30}$/, 'expected a Slack user id such as U024BE7LH'), slackApproverSchema)
    .default({})
    .describe('Slack user id → the person who may decide from Slack; anyone else is refused.'),
  apiUrl: z.url().default('https://slack.com/api/').describe('Slack Web API base URL (tests point it at a local server).'),
})

const auditSchema = z.strictObject({
  content: z.enum(['masked', 'metadata']).default('masked'),
  durability: z.enum(['strict', 'async']).default('strict').describe('strict: committed before forwarding and before the last byte; async: queued (a crash can lose the newest records).'),
  insecureDisabled: z.boolean().default(false).describe('No audit at all. For benchmarks only; warned at start-up.'),
  retention: duration.prefault('90d'),
  sinks: z
    .array(z.union([z.strictObject({ webhook: webhookSchema }), z.strictObject({ jsonl: z.strictObject({ path: z.string().min(1) }) })]))
    .default([]),
  signing: z
    .strictObject({
      key: secretRefSchema
        .optional()
        .describe('PKCS#8 PEM private key, Ed25519 or P-256. Required with PostgreSQL; with SQLite generated (0600) next to the database when absent.'),
      previousKeys: z.array(secretRefSchema).default([]).describe('PEM public keys of earlier signing keys: still published, so heads signed before a rotation verify.'),
      everyRecords: z.number().int().min(1).max(1_000_000).default(1_000).describe('Sign a chain head after this many completed records…'),
      every: duration.prefault('1m').describe('…or after this long, whichever comes first (only when the chain moved).'),
    })
    .optional()
    .describe('Signed audit chain heads (docs/audit.md): evidence of the chain that holds outside the store. Off when absent.'),
  timestamping: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }).describe('The RFC 3161 time-stamping authority: TimeStampReq POSTed as application/timestamp-query, e.g. https://freetsa.org/tsr.'),
      trust: secretRefSchema.describe("PEM CA certificate(s) the TSA's signing certificate must chain to; parsed by config validate and at start-up."),
      timeout: duration.prefault('10s').describe('Per request; a head whose timestamp does not come in time goes out without one (counted).'),
    })
    .optional()
    .describe('RFC 3161 trusted time for every signed head (needs audit.signing): the token goes with the head to the sinks and GET /admin/api/audit/heads. Off when absent.'),
})

const adminSchema = z
  .strictObject({
    tokens: z
      .array(
        z.strictObject({
          name: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/, 'expected a name of letters, digits, ".", "_", "@" or "-"')
            .optional()
            .describe('Shown as the actor of everything done with this token (token:<name>); unnamed tokens are shown as admin.tokens[i].'),
          secret: secretRefSchema,
          roles: z.array(z.enum(['admin', 'approver', 'auditor'])).min(1),
        }),
      )
      .default([]),
    issuers: z
      .array(
        z.strictObject({
          ...issuerShape,
          roleClaim: z.string().min(1).default('groups').describe('The claim (name or dotted path) holding the groups or roles.'),
          login: z
            .strictObject({
              clientId: z.string().min(1),
              clientSecret: secretRefSchema,
              redirectUri: z.url().describe('<admin URL>/admin/login/callback, registered at the IdP.'),
            })
            .optional()
            .describe('Browser sign-in to the console: authorization code + PKCE (openid-client).'),
          roles: z
            .strictObject({ admin: z.array(z.string().min(1)).optional(), approver: z.array(z.string().min(1)).optional(), auditor: z.array(z.string().min(1)).optional() })
            .optional()
            .describe('Role → the roleClaim values (group names or ids, as the IdP sends them) that grant it; without it the values must be the role names.'),
        }),
      )
      .default([]),
    sessions: z
      .strictObject({
        idleTimeout: duration.prefault('30m').describe('A console session unused this long ends.'),
        absoluteTimeout: duration.prefault('8h').describe('A console session ends this long after sign-in, however active.'),
      })
      .prefault({})
      .describe('Browser sessions of people signed in through admin.issuers (kept in the store).'),
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535),
      })
      .optional()
      .describe('A separate listener for the console, the admin API and the Slack endpoint; the public listener then serves none of them.'),
  })
  .prefault({})

export const configSchema = z.strictObject({
  version: z.literal(1).optional().describe('Configuration format version.'),
  listen: listenSchema,
  upstream: upstreamSchema,
  storage: storageSchema,
  issuers: z.array(issuerSchema).default([]),
  keySets: z
    .strictObject({
      maxAge: duration.prefault('10m').describe('Remote issuer keys are refetched after this; cached keys keep serving while the issuer is down.'),
      cooldown: duration.prefault('30s').describe('At most one refetch per issuer in this window, whatever unknown kids arrive.'),
      fetchTimeout: duration.prefault('3s'),
    })
    .prefault({})
    .describe('How issuer key sets (discovery, JWKS URLs, files) are cached and refreshed.'),
  skills: z.record(z.string(), skillSchema).default({}),
  rules: z.array(ruleSchema).default([]),
  mcpServers: z.array(mcpServerSchema).default([]).describe('MCP servers served at /mcp/{id} under the rules (allow.mcp); the gateway holds their credentials. See docs/mcp.md.'),
  gatewayTokens: z
    .strictObject({
      ttl: duration.prefault('5m').describe('Lifetime of gateway-minted tokens (at least 60s; the SDKs refresh 120 s before expiry).'),
      signingKey: z
        .strictObject({ fromFile: z.string().min(1) })
        .optional()
        .describe(
          'A private JWKS file of ES256 signing keys (created with mode 0600 if missing), e.g. a Secret shared by every pod. Unset: keys live in the store under keyEncryption, or (SQLite without keyEncryption) in ./data/gateway-signing-key.json.',
        ),
      keyEncryption: z
        .union([secretRefSchema, z.array(secretRefSchema).min(1)])
        .optional()
        .describe(
          'Keeps the signing keys in the store, sealed with AES-256-GCM under this key: 32 random bytes in base64 (openssl rand -base64 32). A list rotates it: the first seals, every one opens. Required with PostgreSQL unless signingKey is set.',
        ),
      rotateAfter: duration.prefault('24h').describe('A new signing key after this; the previous one stays published until its tokens expire.'),
      issuer: z.url().optional().describe('Public URL of this gateway (iss of minted tokens); default the listen address. Same on every replica.'),
      organizationId: z.string().min(1).optional().describe('When set, the WIF organization_id of an exchange must equal it.'),
    })
    .prefault({}),
  samlIssuers: z
    .array(
      z.strictObject({
        id,
        entityId: z.string().min(1).describe('Exact <saml:Issuer> of the IdP.'),
        certificates: z.array(secretRefSchema).min(1).describe('PEM certificates trusted to sign (several during a rotation).'),
        audience: z.string().min(1).describe("This gateway's SP entity ID."),
        maxLifetime: duration.prefault('10m'),
        maxAge: duration.optional(),
        clockSkew: duration.prefault('30s').describe('Tolerance for IssueInstant, NotBefore and NotOnOrAfter; at most 5m.'),
        singleUse: z.literal(true).default(true).describe('SAML assertions are always single use per (entityId, ID).'),
      }),
    )
    .default([])
    .describe('SAML 2.0 IdPs whose assertions may be exchanged (RFC 8693 saml2 subject tokens).'),
  masking: maskingSchema.optional(),
  audit: auditSchema.prefault({}),
  admin: adminSchema,
  notify: z.array(z.union([z.strictObject({ webhook: webhookSchema }), z.strictObject({ slack: slackNotifySchema })])).default([]),
  mcp: z
    .strictObject({
      publicUrl: z
        .url()
        .describe("The gateway's public base URL as Anthropic reaches it (https): connector servers become <publicUrl>/mcp/{id}."),
      insecureHttpForTests: z.boolean().default(false).describe('Allow an http publicUrl on 127.0.0.1 or localhost. For tests only: Anthropic requires https.'),
      capabilityTtl: duration
        .prefault('10m')
        .refine((ms) => ms >= 1_000, 'capabilityTtl must be at least 1s')
        .describe('Longest life of a connector capability token; it is revoked as soon as its /v1/messages request ends.'),
    })
    .superRefine((mcp, ctx) => {
      const problem = publicUrlProblem(mcp.publicUrl, mcp.insecureHttpForTests)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: problem })
    })
    .optional()
    .describe("Claude's MCP connector through the gateway (rules[].mcp.connector: gateway)."),
  tracing: z
    .strictObject({
      otlp: z.strictObject({ url: z.url().describe('OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces.') }),
      serviceName: z.string().min(1).default('skillgate'),
      sampleRatio: z.number().min(0).max(1).default(1),
    })
    .optional()
    .describe('OpenTelemetry traces: one span per /v1 request. Off when absent.'),
}).superRefine((config, ctx) => {
  // Replicas must share one head-signing key; one is generated only for a single-node SQLite store.
  if (config.audit.signing !== undefined && config.audit.signing.key === undefined && !config.storage.url.startsWith('sqlite:')) {
    ctx.addIssue({ code: 'custom', path: ['audit', 'signing', 'key'], message: 'audit.signing.key is required with PostgreSQL (every replica signs with the same key; none is generated)' })
  }
  // A timestamp is over a signed head's bytes: without signing there is nothing to timestamp.
  if (config.audit.timestamping !== undefined && config.audit.signing === undefined) {
    ctx.addIssue({ code: 'custom', path: ['audit', 'timestamping'], message: 'audit.timestamping needs audit.signing (a timestamp is over a signed chain head)' })
  }
  // The rewrite needs a URL Anthropic can reach; without one the opt-in could only fail per request.
  config.rules.forEach((rule, i) => {
    if (rule.mcp?.connector === 'gateway' && config.mcp === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rules', i, 'mcp', 'connector'], message: 'mcp.connector: gateway needs the top-level mcp.publicUrl (the https URL Anthropic reaches the gateway at)' })
    }
  })
})

/**
 * Anthropic's connector only calls https servers; plain http is for a local test gateway and only
 * with the explicit flag. No query, fragment or credentials: `/mcp/{id}` is appended to the path.
 */
function publicUrlProblem(text: string, insecureHttp: boolean): string | undefined {
  if (!URL.canParse(text)) return undefined // already reported as not a URL
  const url = new URL(text)
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return 'mcp.publicUrl has no credentials, query or fragment'
  if (url.protocol === 'https:') return undefined
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]'
  if (url.protocol === 'http:' && insecureHttp && local) return undefined
  return 'mcp.publicUrl must be https (http only for 127.0.0.1 or localhost with insecureHttpForTests: true)'
}

/** The parsed configuration before secrets are resolved. */
export type ParsedConfig = z.output<typeof configSchema>
export type ConfigInput = z.input<typeof configSchema>
export type IssuerConfig = z.output<typeof issuerSchema>
export type RuleConfig = z.output<typeof ruleSchema>
export type McpServerConfig = z.output<typeof mcpServerSchema>
export type SlackNotifyConfig = z.output<typeof slackNotifySchema>
export type SlackApproverConfig = z.output<typeof slackApproverSchema>
export type EndpointName = (typeof endpointNames)[number]
