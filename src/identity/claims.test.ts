import { describe, expect, it } from 'vitest'
import { normalizeClaims, readPath, splitScope } from './claims.js'
import { parseStrictJsonObject } from './strict-json.js'

const parse = (json: string) => parseStrictJsonObject(new TextEncoder().encode(json), 'payload')

describe('normalizeClaims', () => {
  it('unifies a space-separated scope and an scp array', () => {
    const view = normalizeClaims({ scope: 'claude:messages  skill:summarize', scp: ['skill:summarize', 'files.read'] })
    expect(view.scopes).toEqual(['claude:messages', 'skill:summarize', 'files.read'])
  })

  it('reads scp given as a single string and ignores non-string items', () => {
    expect(normalizeClaims({ scp: 'a b' }).scopes).toEqual(['a', 'b'])
    expect(normalizeClaims({ scp: ['a', 1, null, '', 'b'] }).scopes).toEqual(['a', 'b'])
    expect(normalizeClaims({ scope: 42 }).scopes).toEqual([])
  })

  it('a missing scope means no scopes, never "all" (§5)', () => {
    expect(normalizeClaims({ sub: 'x' }).scopes).toEqual([])
  })

  it('collects roles, Keycloak realm roles and, for keycloak, client roles', () => {
    const claims = {
      roles: ['Reader'],
      realm_access: { roles: ['ci', 'Reader'] },
      resource_access: { skillgate: { roles: ['invoke'] }, other: { roles: 'bad-shape' } },
    }
    expect(normalizeClaims(claims).roles).toEqual(['Reader', 'ci'])
    expect(normalizeClaims(claims, 'keycloak').roles).toEqual(['Reader', 'ci', 'skillgate:invoke', 'other:bad-shape'])
  })

  it('reads SAML groups and roles from the normalised attributes', () => {
    const view = normalizeClaims({ attributes: { groups: ['eng', 'ops'], role: ['admin'] } }, 'saml')
    expect(view.groups).toEqual(['eng', 'ops'])
    expect(view.roles).toEqual(['admin'])
    expect(normalizeClaims({ attributes: { groups: ['eng'] } }).groups).toEqual([])
  })

  it('gives string booleans a typed view and leaves the raw claim a string', () => {
    const claims = { ref_protected: 'true', email_verified: true, draft: 'false', name: 'True' }
    const view = normalizeClaims(claims)
    expect(view.booleans).toEqual({ ref_protected: true, email_verified: true, draft: false })
    expect(view.raw.ref_protected).toBe('true')
    expect(view.booleans.name).toBeUndefined()
  })

  it('exposes the Kubernetes identity and dotted paths into it', () => {
    const claims = {
      'kubernetes.io': {
        namespace: 'ci',
        serviceaccount: { name: 'runner', uid: 'a1b2' },
        pod: { name: 'runner-x', uid: 'p1' },
      },
    }
    const view = normalizeClaims(claims)
    expect(view.kubernetes).toEqual({ namespace: 'ci', serviceAccount: { name: 'runner', uid: 'a1b2' }, pod: { name: 'runner-x', uid: 'p1' } })
    expect(view.get('kubernetes.io.serviceaccount.uid')).toBe('a1b2')
    expect(view.get('kubernetes.io.namespace')).toBe('ci')
    expect(view.get('kubernetes.io.missing')).toBeUndefined()
  })

  it('never reads or pollutes prototypes', () => {
    const claims = parse('{"__proto__":{"polluted":"yes"},"constructor":"c","ok":"true","__proto__x":"1"}')
    const view = normalizeClaims(claims)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(view.get('__proto__.polluted')).toBe('yes')
    expect(view.get('toString')).toBeUndefined()
    expect(readPath({ a: {} }, 'a.constructor.name')).toBeUndefined()
    expect(Object.getPrototypeOf(view.booleans)).toBeNull()
    expect(view.booleans.ok).toBe(true)
  })

  it('returns frozen values', () => {
    const view = normalizeClaims({ scope: 'a', roles: ['r'] })
    expect(Object.isFrozen(view)).toBe(true)
    expect(Object.isFrozen(view.scopes)).toBe(true)
    expect(Object.isFrozen(view.booleans)).toBe(true)
  })
})

describe('splitScope', () => {
  it('splits on whitespace runs and drops empties', () => {
    expect(splitScope(' a\tb  c ')).toEqual(['a', 'b', 'c'])
    expect(splitScope('')).toEqual([])
  })
})

describe('readPath', () => {
  it('prefers the exact name, then the longest dotted key', () => {
    const claims = { 'a.b': 1, a: { b: 2 }, 'x.y': { z: 3 } }
    expect(readPath(claims, 'a.b')).toBe(1)
    expect(readPath(claims, 'x.y.z')).toBe(3)
    expect(readPath(claims, 'x.y.z.w')).toBeUndefined()
    expect(readPath({ list: [1, 2] }, 'list.0')).toBeUndefined()
  })
})
