import { z } from 'zod'
import { componentSchemas } from './openapi-schemas.js'
import type { RouteDef } from './types.js'

/**
 * The OpenAPI 3.1 document, generated from the same route table the router dispatches, so a route
 * cannot exist without being described (and a test checks the two agree). Query parameters and
 * request bodies come from the zod schemas the router validates with.
 */
export type OpenApiDocument = Readonly<Record<string, unknown>> & { readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>> }

export function buildOpenApi(routes: readonly RouteDef[], version: string): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route)
  return {
    openapi: '3.1.0',
    info: {
      title: 'skillgate admin API',
      version,
      description: 'Audit, revocations, principals, policy explain, config, health, reviews and grants. See docs/admin-api.md.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An admin token of admin.tokens, or a human OIDC token of admin.issuers' },
      },
      schemas: componentSchemas,
      responses: Object.fromEntries(
        Object.entries(errorResponses).map(([status, description]) => [
          `E${status}`,
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
    },
  }
}

const errorResponses: Readonly<Record<number, string>> = {
  400: 'Invalid query, body or path parameter; the message names the field',
  401: 'No credential, or not a valid admin or human token',
  403: 'The credential lacks the role this route needs (header skillgate-required-role), or the action is refused',
  404: 'Unknown route or unknown id',
  405: 'Wrong method (header allow)',
  409: 'Conflicts with the current state (a decided review, a record without a stream)',
  413: 'Body above 1 MiB',
  503: 'The store is unavailable',
}

function operation(route: RouteDef): Record<string, unknown> {
  const isPublic = route.roles === 'public'
  const errors = [400, 401, 403, 404, 405, 409, 413, 503].filter((status) => {
    if (isPublic) return status === 404 || status === 405
    if (status === 413) return route.body !== undefined
    if (status === 409) return route.method !== 'GET' || route.path.endsWith('/replay')
    return true
  })
  return {
    operationId: operationId(route),
    tags: [route.tag],
    summary: route.summary,
    description: isPublic ? 'No credential needed.' : `Roles: ${route.roles.join(', ')}.`,
    'x-skillgate-roles': isPublic ? [] : route.roles,
    security: isPublic ? [] : [{ bearer: [] }],
    parameters: [...pathParameters(route), ...queryParameters(route)],
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } } : {}),
    responses: {
      ...Object.fromEntries(
        Object.entries(route.responses).map(([status, doc]) => [
          status,
          { description: doc.description, ...(doc.schema || doc.contentType ? { content: { [doc.contentType ?? 'application/json']: doc.schema ? { schema: doc.schema } : {} } } : {}) },
        ]),
      ),
      ...Object.fromEntries(errors.map((status) => [String(status), { $ref: `#/components/responses/E${status}` }])),
    },
  }
}

function operationId(route: RouteDef): string {
  const words = route.path
    .slice('/admin/api/'.length)
    .split('/')
    .map((segment) => segment.replace(/[{}]/g, '').replace(/^./, (c) => c.toUpperCase()))
  return `${route.method.toLowerCase()}${words.join('')}`
}

function pathParameters(route: RouteDef): Record<string, unknown>[] {
  return [...route.path.matchAll(/\{([a-zA-Z]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
}

function queryParameters(route: RouteDef): Record<string, unknown>[] {
  if (!route.query) return []
  const schema = jsonSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] }
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    schema: property,
  }))
}

/** The input side (what a client sends): query values are strings before the router converts them. */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return rest
}
