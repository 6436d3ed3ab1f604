import { describe, expect, it } from 'vitest'
import { compileMatch } from '../../src/policy/match.js'

describe('rule match, decided once per frozen claims object', () => {
  const match = compileMatch({ subject: 'repo:acme/*', condition: 'claims.ref.startsWith("refs/heads/")' }, 'allow', 'r')

  it('gives the same answer on every call for one token, and each token its own', () => {
    const main = Object.freeze({ sub: 'repo:acme/app', ref: 'refs/heads/main' })
    const tag = Object.freeze({ sub: 'repo:acme/app', ref: 'refs/tags/v1' })
    for (let i = 0; i < 3; i++) {
      expect(match(main)).toEqual({ matched: true })
      expect(match(tag)).toEqual({ matched: false, because: 'condition is false' })
    }
  })

  it('reads claims that may still change afresh every time', () => {
    const claims: Record<string, unknown> = { sub: 'repo:acme/app', ref: 'refs/heads/main' }
    expect(match(claims)).toEqual({ matched: true })
    claims.ref = 'refs/tags/v1'
    expect(match(claims)).toEqual({ matched: false, because: 'condition is false' })
  })

  it('keeps a deny rule fail-closed on an erroring condition, every time', () => {
    const deny = compileMatch({ condition: 'claims.runner_environment == "self-hosted"' }, 'deny', 'd')
    const claims = Object.freeze({ sub: 'x' })
    expect(deny(claims)).toEqual({ matched: true, conditionError: 'missing claim runner_environment' })
    expect(deny(claims)).toEqual({ matched: true, conditionError: 'missing claim runner_environment' })
  })
})
