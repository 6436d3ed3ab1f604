import type { IncomingMessage, ServerResponse } from 'node:http'

/** A handler outside the pipeline (token exchange, JWKS, admin API, console); it writes its own response. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, path: string, search: string) => Promise<void>

export interface Routes {
  /** By "METHOD /path". */
  readonly exact?: ReadonlyMap<string, RouteHandler>
  /** By path prefix (e.g. "/admin/api/"), any method. */
  readonly prefixes?: ReadonlyArray<readonly [string, RouteHandler]>
}

/** A matched route, with the name its failures are counted under (the key it was registered with). */
export interface RouteMatch {
  readonly name: string
  readonly handler: RouteHandler
}

/** What the server does with one request: a route, the pipeline (`/v1/*`), or an ops endpoint. */
export type Destination = { readonly kind: 'route'; readonly route: RouteMatch } | { readonly kind: 'api' } | { readonly kind: 'ops' }

/** Routes win over the pipeline, so `POST /v1/oauth/token` never runs the `/v1` stages. */
export function destinationOf(routes: Routes, method: string, path: string): Destination {
  const key = `${method} ${path}`
  const exact = routes.exact?.get(key)
  if (exact) return { kind: 'route', route: { name: key, handler: exact } }
  const prefixed = routes.prefixes?.find(([prefix]) => path.startsWith(prefix))
  if (prefixed) return { kind: 'route', route: { name: prefixed[0], handler: prefixed[1] } }
  return path.startsWith('/v1/') ? { kind: 'api' } : { kind: 'ops' }
}

/** The raw request target split at the first `?` (the query is forwarded byte for byte, never parsed here). */
export function splitTarget(url: string): { path: string; search: string } {
  const q = url.indexOf('?')
  return q === -1 ? { path: url, search: '' } : { path: url.slice(0, q), search: url.slice(q) }
}
