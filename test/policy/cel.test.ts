import { describe, expect, it } from 'vitest'
import { compileCondition, conditionLimits, evaluateCondition } from '../../src/policy/cel.js'

const compile = (source: string) => {
  const result = compileCondition(source)
  if (!result.ok) throw new Error(result.message)
  return result.program
}

describe('compileCondition', () => {
  it('compiles the reference expressions (workload-identity.md §10)', () => {
    const program = compile('claims.repository_owner_id == "162148032" && "ai-batch" in claims.groups && claims["kubernetes.io"].namespace == "ci"')
    expect(program.readsClaims).toBe(true)
    const claims = { repository_owner_id: '162148032', groups: ['ai-batch'], 'kubernetes.io': { namespace: 'ci' } }
    expect(evaluateCondition(program, claims)).toEqual({ value: true })
    expect(evaluateCondition(compile('has(claims.x)'), claims)).toEqual({ value: false })
  })

  it('returns a syntax error as a message with its position, never throws', () => {
    expect(compileCondition('claims.workflow ==')).toEqual({ ok: false, message: expect.stringMatching(/^CEL syntax error: at 1:\d+/) })
    expect(compileCondition('a +* b')).toMatchObject({ ok: false })
  })

  it('caps length, bracket nesting and tree depth before the recursive parser can overflow', () => {
    expect(compileCondition(`claims.a == "${'x'.repeat(conditionLimits.maxLength)}"`)).toMatchObject({ ok: false, message: expect.stringContaining('longer than') })
    expect(compileCondition(`${'('.repeat(2000)}claims.a${')'.repeat(2000)}`)).toMatchObject({ ok: false, message: expect.stringContaining('brackets nest 2000 deep') })
    expect(compileCondition(`${'('.repeat(30)}claims.a == "b"${')'.repeat(30)}`)).toMatchObject({ ok: true })
    // brackets inside strings do not count
    expect(compileCondition(`claims.a == "${'('.repeat(100)}"`)).toMatchObject({ ok: true })
    const deepMembers = `claims${'.a'.repeat(100)} == "x"`
    expect(compileCondition(deepMembers)).toMatchObject({ ok: false, message: expect.stringContaining('deeper than') })
  })

  it('rejects a comprehension inside a comprehension (quadratic) but allows chains', () => {
    expect(compileCondition('claims.g.all(a, claims.g.exists(b, a == b))')).toMatchObject({ ok: false, message: expect.stringContaining('comprehension') })
    expect(compileCondition('claims.g.filter(x, x != "").all(y, y.startsWith("ai-"))')).toMatchObject({ ok: true })
    expect(compileCondition('claims.g.exists(g, g in ["a", "b"])')).toMatchObject({ ok: true })
  })

  it('rejects unknown variables but knows loop variables and type names', () => {
    expect(compileCondition('claim.workflow == "release"')).toEqual({ ok: false, message: 'unknown variable "claim": the bindings are claims and token' })
    expect(compileCondition('claims.g.exists(x, x == y)')).toMatchObject({ ok: false, message: expect.stringContaining('"y"') })
    expect(compileCondition('claims.g.exists(x, x == "a")')).toMatchObject({ ok: true })
    expect(compileCondition('type(claims.n) == int')).toMatchObject({ ok: true })
    // a loop variable is not bound in the range it iterates over
    expect(compileCondition('x.exists(x, true)')).toMatchObject({ ok: false })
  })

  it('says when a condition never reads claims', () => {
    expect(compile('true').readsClaims).toBe(false)
    expect(compile('1 == 1 || [1].exists(x, x == 1)').readsClaims).toBe(false)
    expect(compile('claims.a == "b"').readsClaims).toBe(true)
  })
})

describe('evaluateCondition', () => {
  it('turns errors and non-boolean results into error outcomes naming at most a claim', () => {
    expect(evaluateCondition(compile('claims.runner_environment != "github-hosted"'), {})).toEqual({ error: 'missing claim runner_environment' })
    expect(evaluateCondition(compile('claims.a'), { a: 'x' })).toEqual({ error: 'non-boolean result' })
    expect(evaluateCondition(compile('claims.a + 1 == 2'), { a: 'x' })).toEqual({ error: 'type mismatch' })
    expect(evaluateCondition(compile('claims.l[3] == "x"'), { l: [] })).toEqual({ error: 'index out of range' })
  })

  it('never copies a claim value into the outcome', () => {
    const outcome = evaluateCondition(compile('int(claims.secret) == 1'), { secret: 'hunter2-value' })
    expect(outcome).toEqual({ error: 'evaluation error' })
    expect(JSON.stringify(outcome)).not.toContain('hunter2')
    // a map key taken from another claim is a value, not a name written in the condition
    expect(evaluateCondition(compile('claims.m[claims.secret] == "x"'), { m: {}, secret: 'hunter2' })).toEqual({ error: 'missing claim' })
  })

  it('uses a linear-time regex engine for matches()', () => {
    const program = compile('claims.s.matches("^(a+)+$")')
    const started = performance.now()
    expect(evaluateCondition(program, { s: `${'a'.repeat(5_000)}!` })).toEqual({ value: false })
    expect(performance.now() - started).toBeLessThan(2_000)
  })
})

describe('claims as the verifier returns them', () => {
  it('evaluates conditions over frozen null-prototype claim objects, nested ones too', () => {
    const nested = Object.freeze(Object.assign(Object.create(null), { namespace: 'ci' }))
    const claims = Object.freeze(Object.assign(Object.create(null), { scope: 'claude:messages', 'kubernetes.io': nested, __proto__x: 1 }))
    for (const [expr, expected] of [
      ['claims.scope.contains("claude:messages")', true],
      ['has(claims.scope)', true],
      ['claims["kubernetes.io"].namespace == "ci"', true],
    ] as const) {
      const compiled = compileCondition(expr)
      expect(compiled.ok).toBe(true)
      if (compiled.ok) expect(evaluateCondition(compiled.program, claims), expr).toEqual({ value: expected })
    }
  })
})

describe('claims converted once per token', () => {
  it('give the same outcomes as the plain claims CEL converts on every read, on every evaluation', () => {
    const plain = {
      sub: 'repo:acme/app', n: 3, ratio: 0.5, ok: true, none: null, groups: ['a', 'b'], nested: { list: [{ k: 'v', n: 2 }], deep: { x: [1, [2, 3]] } },
      'kubernetes.io': { namespace: 'ci' }, realm_access: { roles: ['ops'] },
    }
    const frozen = Object.freeze(Object.assign(Object.create(null), plain))
    const expressions = [
      'claims.groups.exists(g, g == "b")', 'size(claims.groups) == 2', '"a" in claims.groups', 'claims.nested.list[0].k == "v"',
      'claims.nested.list.exists(e, e.n == 2)', 'claims.nested.deep.x[1][0] == 2', 'has(claims.nested.deep)', '"deep" in claims.nested',
      'claims.n == 3', 'claims.ratio < 1.0', 'claims.ok', 'claims.none == null', 'claims["kubernetes.io"].namespace == "ci"',
      'claims.missing == "x"', 'claims.nested.list[5].k == "v"', 'claims.n == "3"', 'claims.groups', '"ops" in token.roles', 'size(token.scopes) == 0',
    ]
    for (const expr of expressions) {
      const compiled = compileCondition(expr)
      expect(compiled.ok, expr).toBe(true)
      if (!compiled.ok) continue
      const expected = evaluateCondition(compiled.program, { ...plain })
      expect(evaluateCondition(compiled.program, frozen), expr).toEqual(expected)
      expect(evaluateCondition(compiled.program, frozen), `${expr} (again)`).toEqual(expected)
    }
  })
})

describe('the normalised token view', () => {
  it('reads scope and scp alike, Keycloak realm roles and string booleans', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['"claude:messages" in token.scopes', { scope: 'openid claude:messages' }],
      ['"claude:messages" in token.scopes', { scp: ['claude:messages'] }],
      ['"ai-batch" in token.roles', { realm_access: { roles: ['ai-batch'] } }],
      ['token.booleans.ref_protected', { ref_protected: 'true' }],
    ]
    for (const [expr, claims] of cases) {
      const compiled = compileCondition(expr)
      expect(compiled.ok, expr).toBe(true)
      if (compiled.ok) expect(evaluateCondition(compiled.program, Object.freeze(Object.assign(Object.create(null), claims))), expr).toEqual({ value: true })
    }
  })
})
