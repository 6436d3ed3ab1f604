import { z } from 'zod'
import { explainWithPolicy } from '../../policy/explain.js'
import { invalid } from '../errors.js'
import { READ, defineRoute } from '../router.js'
import { ref } from '../schemas.js'
import type { AdminApiDeps, ExplainFn, RouteDef } from '../types.js'

/** `POST /admin/api/policy/explain`: the running policy's decision for claims and a request, with every reason. */

const explainBody = z.strictObject({
  claims: z.record(z.string(), z.unknown()),
  /** `issuers[].id`; default: the issuer whose `issuer` equals `claims.iss`. */
  issuer: z.string().min(1).optional(),
  request: z.strictObject({
    method: z.string().regex(/^[A-Za-z]{1,16}$/, 'expected an HTTP method'),
    path: z.string().startsWith('/', 'expected a path such as /v1/messages').max(2_048),
    body: z.unknown().optional(),
    /** Only `skillgate-rule` is read. */
    headers: z.record(z.string(), z.string()).optional(),
  }),
})

export function policyRoutes(deps: AdminApiDeps): RouteDef[] {
  const explain: ExplainFn = deps.explain ?? ((claims, issuerId, request) => explainWithPolicy(deps.policy, claims, issuerId, request))
  return [
    defineRoute({
      method: 'POST',
      path: '/admin/api/policy/explain',
      tag: 'policy',
      roles: READ,
      summary: 'The decision for a token\'s claims and a request under the running policy, with the rule and every reason',
      body: explainBody,
      responses: { 200: { description: 'Decision, endpoint, request facts and a readable explanation', schema: ref('Explanation') } },
      async handle({ body }) {
        const issuer = issuerFor(deps, body.issuer, body.claims.iss)
        const { method, path } = body.request
        const request = { method, path, body: body.request.body, headers: body.request.headers }
        const explanation = explain(body.claims, issuer, request)
        return { status: 200, body: { issuer, ...explanation } }
      },
    }),
  ]
}

function issuerFor(deps: AdminApiDeps, named: string | undefined, iss: unknown): string {
  const issuers = deps.config.issuers
  if (named !== undefined) {
    if (!issuers.some((i) => i.id === named)) throw invalid(`field "issuer": no issuer "${named}" in issuers[]`)
    return named
  }
  const byIss = issuers.find((i) => i.issuer === iss)
  if (byIss) return byIss.id
  throw invalid('field "issuer": name an issuer id, or put the issuer URL in claims.iss')
}
