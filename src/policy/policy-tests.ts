import { LineCounter, isNode, parseDocument } from 'yaml'
import { z } from 'zod'
import { compilePolicy } from './compile.js'
import type { Decision } from './decision.js'
import { explainWithPolicy, type ExplainRequest } from './explain.js'
import type { PolicySource } from './input.js'
import { isReasonCode, type Reason } from './reasons.js'

/**
 * `skillgate policy test`: YAML cases of claims + request → expected decision, rule and reasons,
 * run against a config like `opa test` (style-anchors §3.2 "policy vectors").
 *
 * A case file is `{ config?: <config fragment>, cases: [...] }` (a bare list of cases also works);
 * each case expects a `decision` (`effect`, the old word, is accepted with a warning);
 * `config` is returned as is for the caller to load (the project's own vectors carry one).
 */

/** An expected reason: `code`, or `{ code, detail }` to pin the detail too. */
const reasonExpectation = z.union([
  z.string().refine(isReasonCode, { message: 'unknown reason code' }),
  z.strictObject({ code: z.string().refine(isReasonCode, { message: 'unknown reason code' }), detail: z.string().optional() }),
])

/** Shorthand requests for `endpoint:` (the original vector format). */
const endpointRequests = {
  messages: { method: 'POST', path: '/v1/messages' },
  count_tokens: { method: 'POST', path: '/v1/messages/count_tokens' },
  batches: { method: 'POST', path: '/v1/messages/batches' },
  models: { method: 'GET', path: '/v1/models' },
  files: { method: 'GET', path: '/v1/files' },
  'skills.read': { method: 'GET', path: '/v1/skills' },
  'skills.manage': { method: 'POST', path: '/v1/skills' },
  'agents.read': { method: 'GET', path: '/v1/agents' },
  'agents.manage': { method: 'POST', path: '/v1/agents' },
  environments: { method: 'POST', path: '/v1/environments' },
  sessions: { method: 'POST', path: '/v1/sessions' },
  deployments: { method: 'POST', path: '/v1/deployments' },
  vaults: { method: 'POST', path: '/v1/vaults' },
  memory_stores: { method: 'POST', path: '/v1/memory_stores' },
  tunnels: { method: 'POST', path: '/v1/tunnels' },
  unknown: { method: 'GET', path: '/v1/not-an-endpoint' },
} as const

const caseSchema = z
  .strictObject({
    name: z.string().min(1),
    issuer: z.string().min(1).describe('Issuer id (the `id` under issuers:).'),
    claims: z.record(z.string(), z.unknown()),
    request: z
      .strictObject({ method: z.string().min(1).default('POST'), path: z.string().min(1), body: z.unknown().optional(), headers: z.record(z.string(), z.string()).optional() })
      .optional(),
    endpoint: z.enum(Object.keys(endpointRequests) as [keyof typeof endpointRequests]).optional(),
    body: z.unknown().optional(),
    namedRule: z.string().min(1).optional(),
    containers: z.record(z.string(), z.string()).optional().describe('Known container owners: id → principal.'),
    expect: z.strictObject({
      decision: z.enum(['allow', 'deny']).optional().describe('The expected decision (SPEC §1: the word is `decision` everywhere).'),
      effect: z.enum(['allow', 'deny']).optional().describe('Deprecated spelling of `decision`, still accepted with a warning.'),
      rule: z.string().optional(),
      principal: z.string().optional(),
      reasons: z.array(reasonExpectation).optional().describe('The exact list, in order.'),
      includes: z.array(reasonExpectation).optional().describe('Reasons that must appear, in any order.'),
      deniedBy: reasonExpectation.optional(),
    }),
  })
  .refine((c) => (c.request === undefined) !== (c.endpoint === undefined), { message: 'a case has exactly one of request or endpoint' })
  .refine((c) => (c.expect.decision === undefined) !== (c.expect.effect === undefined), { message: 'expect needs exactly one decision: allow or deny', path: ['expect', 'decision'] })

export type PolicyTestCase = z.output<typeof caseSchema>
type ReasonExpectation = z.output<typeof reasonExpectation>

const fileSchema = z.strictObject({ config: z.unknown().optional(), cases: z.array(caseSchema) })

export type ParsedPolicyTests =
  | { readonly ok: true; readonly config?: unknown; readonly cases: PolicyTestCase[]; readonly warnings: string[] }
  | { readonly ok: false; readonly problems: string[] }

/** Validates parsed YAML of a case file; every problem with its path. */
export function parsePolicyTests(data: unknown): ParsedPolicyTests {
  return parseWithLines(data, () => undefined)
}

/**
 * A case file's text: every problem and warning with its path and line, as `line N: path: message`.
 * @example parsePolicyTestFile(readFileSync('policy-tests/ci.yaml', 'utf8'))
 */
export function parsePolicyTestFile(text: string): ParsedPolicyTests {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) return { ok: false, problems: doc.errors.map((e) => `line ${lineCounter.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`) }
  const bare = Array.isArray(doc.contents?.toJSON())
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    const inDoc = bare ? path.slice(1) : path
    for (let depth = inDoc.length; depth >= 0; depth--) {
      const node = doc.getIn(inDoc.slice(0, depth), true)
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line
    }
    return undefined
  }
  return parseWithLines(doc.toJS(), lineOf)
}

function parseWithLines(data: unknown, lineOf: (path: readonly PropertyKey[]) => number | undefined): ParsedPolicyTests {
  const where = (path: readonly PropertyKey[]) => {
    const line = lineOf(path)
    return `${line === undefined ? '' : `line ${line}: `}${path.map(String).join('.') || '(file)'}`
  }
  // Dispatch by shape rather than a zod union, so problems name the field rather than "invalid input".
  const parsed = fileSchema.safeParse(Array.isArray(data) ? { cases: data } : data)
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${where(i.path)}: ${i.message}`) }
  const warnings = parsed.data.cases.flatMap((c, i) =>
    c.expect.effect === undefined ? [] : [`${where(['cases', i, 'expect', 'effect'])}: "effect" is deprecated, write "decision: ${c.expect.effect}" (case "${c.name}")`],
  )
  return { ok: true, ...(parsed.data.config === undefined ? {} : { config: parsed.data.config }), cases: parsed.data.cases, warnings }
}

export interface PolicyTestResult {
  readonly name: string
  readonly passed: boolean
  /** What differed, one line each; empty when passed. */
  readonly failures: readonly string[]
  readonly decision: Decision
  /** `policy explain` text of the case, to print when it failed. */
  readonly explanation: string
}

/**
 * Runs cases against a config's rules and skills. Throws PolicyCompileError if the policy does not
 * compile (validate the config first).
 *
 * @example runPolicyTests(config, parsed.cases).filter((r) => !r.passed)
 */
export function runPolicyTests(config: PolicySource, cases: readonly PolicyTestCase[]): PolicyTestResult[] {
  const policy = compilePolicy(config.rules, config.skills)
  return cases.map((c) => {
    const request: ExplainRequest = c.request ?? { ...endpointRequests[c.endpoint ?? 'unknown'], body: c.body }
    const { decision, text } = explainWithPolicy(policy, c.claims, c.issuer, request, {
      ...(c.namedRule === undefined ? {} : { namedRule: c.namedRule }),
      ...(c.containers === undefined ? {} : { containerOwners: c.containers }),
    })
    const failures = compare(c.expect, decision)
    return { name: c.name, passed: failures.length === 0, failures, decision, explanation: text }
  })
}

function compare(expected: PolicyTestCase['expect'], decision: Decision): string[] {
  const failures: string[] = []
  const differs = (what: string, want: unknown, got: unknown) => failures.push(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got ?? null)}`)
  const want = expected.decision ?? expected.effect
  if (decision.effect !== want) differs('decision', want, decision.effect)
  if (expected.rule !== undefined && decision.rule !== expected.rule) differs('rule', expected.rule, decision.rule)
  if (expected.principal !== undefined && decision.principal !== expected.principal) differs('principal', expected.principal, decision.principal)
  if (expected.reasons !== undefined) {
    const same = expected.reasons.length === decision.reasons.length && expected.reasons.every((want, i) => matches(want, decision.reasons[i]))
    if (!same) differs('reasons', expected.reasons, decision.reasons.map(show))
  }
  for (const want of expected.includes ?? []) {
    if (!decision.reasons.some((got) => matches(want, got))) differs('reasons to include', want, decision.reasons.map(show))
  }
  if (expected.deniedBy !== undefined && !matches(expected.deniedBy, decision.deniedBy)) differs('deniedBy', expected.deniedBy, decision.deniedBy && show(decision.deniedBy))
  return failures
}

function matches(want: ReasonExpectation, got: Reason | undefined): boolean {
  if (got === undefined) return false
  if (typeof want === 'string') return got.code === want
  return got.code === want.code && (want.detail === undefined || got.detail === want.detail)
}

const show = (reason: Reason) => (reason.detail === undefined ? reason.code : `${reason.code} (${reason.detail})`)

/** `PASS`/`FAIL` lines, the failures and explanation of each failed case, and a count. */
export function formatPolicyTestResults(results: readonly PolicyTestResult[]): string {
  const lines: string[] = []
  for (const result of results) {
    lines.push(`${result.passed ? 'PASS' : 'FAIL'} ${result.name}`)
    if (result.passed) continue
    lines.push(...result.failures.map((f) => `    ${f}`), ...result.explanation.split('\n').map((l) => `    | ${l}`))
  }
  const failed = results.filter((r) => !r.passed).length
  lines.push(`${results.length - failed} passed, ${failed} failed`)
  return lines.join('\n')
}
