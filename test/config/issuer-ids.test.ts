/**
 * Issuer ids and SAML entity IDs (issue #13 item 5, issue #12 item 4): clashes that used to load and
 * then break every exchange, and the id the gateway reserves for its own tokens.
 */
import { describe, expect, it } from 'vitest'
import { loadConfigText } from '../../src/config/load.js'

const base = `
upstream: { url: "http://127.0.0.1:9", apiKey: { value: k } }
issuers:
  - { id: ci, issuer: "https://ci.example", audience: gw, jwks: { keys: [{ kty: EC }] } }
rules:
  - id: job
    issuer: ci
    match: { subject: "repo:acme/*" }
    allow: { endpoints: [messages], models: ["claude-*"] }
`
const saml = (id: string, entityId: string, extra = '') =>
  `  - { id: ${id}, entityId: "${entityId}", certificates: [{ value: pem }], audience: "https://gw.example"${extra} }\n`

function problemsOf(text: string): string[] {
  const result = loadConfigText(text, 'test.yaml', {})
  return result.ok ? [] : result.problems.map((p) => `${p.path.join('.')}: ${p.message}`)
}

describe('issuer ids', () => {
  it('loads distinct SAML issuers', () => {
    expect(problemsOf(`${base}samlIssuers:\n${saml('corp', 'https://idp.corp')}${saml('lab', 'https://idp.lab')}`)).toEqual([])
  })

  it('refuses two SAML issuers with one entityId', () => {
    expect(problemsOf(`${base}samlIssuers:\n${saml('corp', 'https://idp.corp')}${saml('lab', 'https://idp.corp')}`)).toEqual([
      'samlIssuers.1.entityId: SAML entityId https://idp.corp is configured twice',
    ])
  })

  it('refuses duplicate SAML ids and an id shared with an OIDC issuer', () => {
    expect(problemsOf(`${base}samlIssuers:\n${saml('corp', 'https://idp.corp')}${saml('corp', 'https://idp.lab')}${saml('ci', 'https://idp.ci')}`)).toEqual([
      'samlIssuers.1.id: duplicate SAML issuer id "corp"',
      'samlIssuers.2.id: issuer id "ci" is used by an OIDC issuer too',
    ])
  })

  it('caps the SAML clockSkew at 5 minutes like OIDC issuers', () => {
    expect(problemsOf(`${base}samlIssuers:\n${saml('corp', 'https://idp.corp', ', clockSkew: 5m')}`)).toEqual([])
    expect(problemsOf(`${base}samlIssuers:\n${saml('corp', 'https://idp.corp', ', clockSkew: 10m')}`)).toEqual([
      'samlIssuers.0.clockSkew: clockSkew above 5m is not allowed (single-use entries are kept until exp + clockSkew)',
    ])
  })

  it.each([
    ['issuers', base.replace('id: ci,', 'id: skillgate,').replace('issuer: ci', 'issuer: skillgate'), 'issuers.0.id'],
    ['samlIssuers', `${base}samlIssuers:\n${saml('skillgate', 'https://idp.corp')}`, 'samlIssuers.0.id'],
    ['admin issuers', `${base}admin:\n  issuers:\n    - { id: skillgate, issuer: "https://sso.example", audience: gw, roleClaim: roles, jwks: { keys: [{ kty: EC }] } }\n`, 'admin.issuers.0.id'],
  ])('reserves the id "skillgate" in %s', (_section, text, path) => {
    expect(problemsOf(text)).toEqual([`${path}: issuer id "skillgate" is reserved for the gateway's own tokens`])
  })
})
