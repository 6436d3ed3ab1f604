import type { Claims } from './claims.js'
import { compilePolicy, type Policy } from './compile.js'
import type { Decision } from './decision.js'
import { describeReason } from './describe.js'
import { classifyEndpoint, type Endpoint } from './endpoint.js'
import { evaluatePolicy } from './evaluate.js'
import type { PolicySource } from './input.js'
import { reasonInfo } from './reasons.js'
import { extractRequestFacts, type RequestFacts } from './request-facts.js'

/** A request as a client would send it; `body` is the parsed JSON. */
export interface ExplainRequest {
  readonly method: string
  /** Pathname; a query string is ignored, as in routing (anthropic-api.md §0 rule 3). */
  readonly path: string
  readonly body?: unknown
  /** Only `skillgate-rule` is read. */
  readonly headers?: Readonly<Record<string, string | undefined>> | undefined
}

const requestKeys = new Set(['method', 'path', 'body', 'headers'])

/**
 * The one request shape of explain — `{ method, path, body, headers }`, as the console, the admin
 * API and policy test cases take it — read from parsed JSON. A bare message body (the CLI's old
 * `--request`) is still read as the body of `POST /v1/messages`, with a warning to print.
 */
export function readExplainRequest(json: unknown): { request: ExplainRequest; warning?: string } {
  const object = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined
  const envelope = object !== undefined && typeof object.path === 'string' && Object.keys(object).every((k) => requestKeys.has(k))
  if (!envelope) {
    return {
      request: { method: 'POST', path: '/v1/messages', body: json },
      warning: 'read as the body of POST /v1/messages; write { "method", "path", "body", "headers" } as in the console and test cases',
    }
  }
  const headers = object.headers
  if (headers !== undefined && (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string'))) {
    throw new TypeError('request.headers must map header names to strings')
  }
  if (object.method !== undefined && typeof object.method !== 'string') throw new TypeError('request.method must be a string such as "POST"')
  return {
    request: {
      method: typeof object.method === 'string' ? object.method : 'POST',
      path: object.path as string,
      body: object.body,
      ...(headers === undefined ? {} : { headers: headers as Record<string, string> }),
    },
  }
}

export interface ExplainOptions {
  /** The rule the client names; default: the `skillgate-rule` header of the request. */
  readonly namedRule?: string
  /** Known container owners (container id → principal), as the gateway would look them up. */
  readonly containerOwners?: Readonly<Record<string, string>>
}

export interface Explanation {
  readonly decision: Decision
  readonly endpoint: Endpoint
  readonly facts: RequestFacts
  /** Human-readable lines: decision, request, each rule of the issuer, each reason. */
  readonly text: string
}

/**
 * `skillgate policy explain`: the decision for a token's claims and a request, with the rule and
 * every reason, plus why each other rule of the issuer did or did not match. Offline and pure.
 *
 * @example explainDecision(config, { sub: 'repo:acme/app:ref:refs/heads/main' }, 'github', { method: 'POST', path: '/v1/messages', body })
 */
export function explainDecision(config: PolicySource, claims: Claims, issuerId: string, request: ExplainRequest, options: ExplainOptions = {}): Explanation {
  return explainWithPolicy(compilePolicy(config.rules, config.skills), claims, issuerId, request, options)
}

/** The same against an already compiled policy (the running gateway's, for the admin API). */
export function explainWithPolicy(policy: Policy, claims: Claims, issuerId: string, request: ExplainRequest, options: ExplainOptions = {}): Explanation {
  const pathname = request.path.split('?')[0] ?? ''
  const endpoint = classifyEndpoint(request.method.toUpperCase(), pathname)
  // The gateway parses only bodies policy reads; do the same so explain and serve agree.
  const facts = extractRequestFacts(endpoint.name, endpoint.inspectBody ? request.body : undefined)
  const namedRule = options.namedRule ?? request.headers?.['skillgate-rule']
  const owners = options.containerOwners ?? {}
  const decision = evaluatePolicy(policy, {
    issuerId,
    claims,
    endpoint: endpoint.name,
    facts,
    ...(namedRule === undefined ? {} : { namedRule }),
    containerOwner: (id) => (Object.hasOwn(owners, id) ? owners[id] : undefined),
  })
  const lines = [
    `decision: ${decision.effect}${decision.rule ? ` (rule ${decision.rule})` : ''}`,
    ...(decision.principal ? [`principal: ${decision.principal}`] : []),
    `request: ${request.method.toUpperCase()} ${pathname} -> endpoint ${endpoint.name}`,
    ...ruleLines(policy, claims, issuerId, namedRule),
    'reasons:',
    ...decision.reasons.map((reason) => `  ${mark[reasonInfo[reason.code].polarity]} ${reason.code}: ${describeReason(reason)}`),
    ...(decision.deniedBy ? [`denied by: ${decision.deniedBy.code}`] : []),
  ]
  return { decision, endpoint, facts, text: lines.join('\n') }
}

const mark = { granted: '✓', denied: '✗', note: '!' } as const

function ruleLines(policy: Policy, claims: Claims, issuerId: string, namedRule: string | undefined): string[] {
  const rules = policy.rulesByIssuer.get(issuerId) ?? []
  if (rules.length === 0) return [`rules of issuer ${issuerId}: none`]
  return [
    `rules of issuer ${issuerId}:`,
    ...rules.map((rule) => {
      if (rule.effect === 'allow' && namedRule !== undefined && rule.id !== namedRule) return `  - ${rule.id} (allow): not evaluated, the client named ${namedRule}`
      const result = rule.match(claims)
      const outcome = result.matched ? (result.conditionError ? `matches (condition error counts as a match: ${result.conditionError})` : 'matches') : `no match: ${result.because ?? 'unknown'}`
      return `  - ${rule.id} (${rule.effect}): ${outcome}`
    }),
  ]
}
