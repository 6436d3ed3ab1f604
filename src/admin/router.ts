import type { z } from 'zod'
import { GatewayError } from '../errors/gateway-error.js'
import { invalid } from './errors.js'
import type { Method, Reply, ResponseDoc, Role, RouteContext, RouteDef } from './types.js'

/** Who may call what (SPEC §2 roles). `admin` is in every list: it may do everything. */
export const READ: readonly Role[] = ['admin', 'approver', 'auditor']
/** The approval queue and grants: read and decide. Auditors' read-only set does not include them. */
export const APPROVALS: readonly Role[] = ['admin', 'approver']
export const ADMIN_ONLY: readonly Role[] = ['admin']

export interface RouteSpec<Q, B> {
  readonly method: Method
  readonly path: `/admin/api/${string}`
  readonly roles: readonly Role[] | 'public'
  readonly summary: string
  readonly tag: string
  readonly query?: z.ZodType<Q>
  readonly body?: z.ZodType<B>
  readonly responses: Readonly<Record<number, ResponseDoc>>
  readonly handle: (ctx: RouteContext<Q, B>) => Promise<Reply>
}

/**
 * Declares a route with typed query and body. The router validates both with the given schemas
 * before calling `handle`, so the cast below only erases types the validation established.
 */
export function defineRoute<Q = Record<string, never>, B = undefined>(spec: RouteSpec<Q, B>): RouteDef {
  return spec as unknown as RouteDef
}

interface CompiledRoute {
  readonly def: RouteDef
  /** Path segments after `/admin/api/`; `null` marks a parameter. */
  readonly segments: readonly (string | null)[]
  readonly names: readonly string[]
  /** Literal segments: a literal route (`audit/export`) wins over a parameter (`audit/{id}`). */
  readonly literals: number
}

export interface Match {
  readonly def: RouteDef
  readonly params: Readonly<Record<string, string>>
}

const prefix = '/admin/api/'

export interface Router {
  /** The route for this method and path; throws 404 for an unknown path and 405 (with `allow`) for a known one. */
  match(method: string, path: string): Match
  readonly routes: readonly RouteDef[]
}

export function createRouter(defs: readonly RouteDef[]): Router {
  const compiled = defs.map(compile)
  const seen = new Set<string>()
  for (const route of compiled) {
    const key = `${route.def.method} ${route.segments.map((s) => s ?? '{}').join('/')}`
    if (seen.has(key)) throw new TypeError(`admin API: route ${key} is declared twice`)
    seen.add(key)
  }
  return {
    routes: defs,
    match(method, path) {
      if (!path.startsWith(prefix)) throw new GatewayError('GW_NOT_FOUND')
      const parts = path.slice(prefix.length).split('/')
      const candidates = compiled.filter((route) => fits(route, parts)).sort((a, b) => b.literals - a.literals)
      if (candidates.length === 0) throw new GatewayError('GW_NOT_FOUND')
      const route = candidates.find((c) => c.def.method === method)
      if (!route) {
        const allow = [...new Set(candidates.map((c) => c.def.method))].join(', ')
        throw new GatewayError('GW_METHOD_NOT_ALLOWED', { publicDetail: `use ${allow}`, headers: { allow } })
      }
      return { def: route.def, params: paramsOf(route, parts) }
    },
  }
}

function compile(def: RouteDef): CompiledRoute {
  const segments: (string | null)[] = []
  const names: string[] = []
  for (const segment of def.path.slice(prefix.length).split('/')) {
    const param = /^\{([a-zA-Z]+)\}$/.exec(segment)
    if (param?.[1]) names.push(param[1])
    segments.push(param ? null : segment)
  }
  return { def, segments, names, literals: segments.filter((s) => s !== null).length }
}

function fits(route: CompiledRoute, parts: readonly string[]): boolean {
  if (parts.length !== route.segments.length) return false
  return route.segments.every((segment, i) => (segment === null ? parts[i] !== '' : segment === parts[i]))
}

function paramsOf(route: CompiledRoute, parts: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {}
  let n = 0
  route.segments.forEach((segment, i) => {
    if (segment !== null) return
    const name = route.names[n++] ?? `p${i}`
    try {
      // A principal such as `ci:1234567/77` arrives as `ci%3A1234567%2F77`.
      params[name] = decodeURIComponent(parts[i] ?? '')
    } catch {
      throw invalid(`path parameter "${name}" is not valid percent-encoding`)
    }
  })
  return params
}

/** A path parameter the route template guarantees. */
export function param(ctx: RouteContext<unknown, unknown>, name: string): string {
  const value = ctx.params[name]
  if (value === undefined) throw new TypeError(`route has no parameter ${name}`)
  return value
}
