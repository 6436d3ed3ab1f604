/**
 * Managed Agents families (claude-api-2026.md §4), as far as the gateway's tests need them: create,
 * get, list, update and archive of agents, environments, sessions, deployments, vaults (with
 * credentials), memory stores and tunnels (with `reveal_token`). Each family needs its beta header:
 * `managed-agents-2026-04-01`; memory stores `agent-memory-2026-07-22` (both at once is 400);
 * tunnels `mcp-tunnels-2026-06-22`. Objects are shared by every caller of the workspace, as upstream.
 */
import { badRequest, header, isRecord, isoNow, notFound, sendJson } from './http-io.js'
import { newId } from './ids.js'
import type { Ctx } from './types.js'

interface Family {
  readonly path: string
  readonly type: string
  readonly idPrefix: string
  readonly beta: string
}

export const FAMILIES: readonly Family[] = [
  { path: 'agents', type: 'agent', idPrefix: 'agent', beta: 'managed-agents-2026-04-01' },
  { path: 'environments', type: 'environment', idPrefix: 'env', beta: 'managed-agents-2026-04-01' },
  { path: 'sessions', type: 'session', idPrefix: 'sesn', beta: 'managed-agents-2026-04-01' },
  { path: 'deployments', type: 'deployment', idPrefix: 'depl', beta: 'managed-agents-2026-04-01' },
  { path: 'vaults', type: 'vault', idPrefix: 'vlt', beta: 'managed-agents-2026-04-01' },
  { path: 'memory_stores', type: 'memory_store', idPrefix: 'memstore', beta: 'agent-memory-2026-07-22' },
  { path: 'tunnels', type: 'tunnel', idPrefix: 'tunnel', beta: 'mcp-tunnels-2026-06-22' },
]

/** The connector token a tunnel reveals: recognisable, so tests can look for it in the audit. */
export const MOCK_TUNNEL_TOKEN_PREFIX = 'mock-tunnel-token-'

/** Members a vault credential accepts but never returns. */
const SECRET_MEMBERS = ['access_token', 'refresh_token', 'client_secret', 'token', 'secret_value']

function betaProblem(ctx: Ctx, family: Family): string | undefined {
  const betas = (header(ctx, 'anthropic-beta') ?? '').split(',').map((b) => b.trim())
  if (betas.includes('managed-agents-2026-04-01') && betas.includes('agent-memory-2026-07-22')) return 'managed-agents-2026-04-01 and agent-memory-2026-07-22 cannot be combined'
  return betas.includes(family.beta) ? undefined : `this endpoint requires the anthropic-beta header ${family.beta}`
}

function guarded(family: Family, run: (ctx: Ctx, params: string[]) => void): (ctx: Ctx, params: string[]) => void {
  return (ctx, params) => {
    const problem = betaProblem(ctx, family)
    if (problem !== undefined) badRequest(ctx, problem)
    else run(ctx, params)
  }
}

function body(ctx: Ctx): Record<string, unknown> {
  return isRecord(ctx.rec.json) ? ctx.rec.json : {}
}

/** A stored object: the request's fields (an agent's model string as `{id}`), with id, type and times. */
function create(ctx: Ctx, family: Family): void {
  const input = body(ctx)
  const object: Record<string, unknown> = { ...input, id: newId(family.idPrefix), type: family.type, created_at: isoNow(), updated_at: isoNow(), archived_at: null }
  if (family.type === 'agent') Object.assign(object, { version: 1, model: typeof input.model === 'string' ? { id: input.model, speed: 'standard' } : input.model })
  if (family.type === 'session') Object.assign(object, { status: 'idle' })
  ctx.state.managed.set(object.id as string, object)
  sendJson(ctx, 200, object)
}

function find(ctx: Ctx, family: Family, id: string): Record<string, unknown> | undefined {
  const object = ctx.state.managed.get(id)
  if (object?.type === family.type) return object
  notFound(ctx, `${family.type}: ${id}`)
  return undefined
}

function get(ctx: Ctx, family: Family, id: string): void {
  const object = find(ctx, family, id)
  if (object) sendJson(ctx, 200, object)
}

function update(ctx: Ctx, family: Family, id: string): void {
  const object = find(ctx, family, id)
  if (!object) return
  Object.assign(object, body(ctx), { id, type: family.type, updated_at: isoNow() })
  if (typeof object.version === 'number') object.version += 1
  sendJson(ctx, 200, object)
}

function list(ctx: Ctx, family: Family): void {
  const data = [...ctx.state.managed.values()].filter((object) => object.type === family.type).reverse()
  sendJson(ctx, 200, { data, next_page: null })
}

function archive(ctx: Ctx, family: Family, id: string): void {
  const object = find(ctx, family, id)
  if (!object) return
  object.archived_at = isoNow()
  sendJson(ctx, 200, object)
}

function addCredential(ctx: Ctx, vaults: Family, id: string): void {
  if (!find(ctx, vaults, id)) return
  const input = body(ctx)
  const shown = Object.fromEntries(Object.entries(input).filter(([key]) => !SECRET_MEMBERS.includes(key)))
  sendJson(ctx, 200, { ...shown, id: newId('vcrd'), type: 'vault_credential', vault_id: id, created_at: isoNow() })
}

function revealToken(ctx: Ctx, tunnels: Family, id: string): void {
  if (!find(ctx, tunnels, id)) return
  sendJson(ctx, 200, { id: newId('tuntok'), type: 'tunnel_token', tunnel_token: `${MOCK_TUNNEL_TOKEN_PREFIX}${id}` })
}

type Handler = (ctx: Ctx, params: string[]) => void
export interface ManagedRoute {
  readonly method: string
  readonly path: string
  readonly handler: Handler
}

/** Routes for the router, with `([^/]+)` where an id goes. */
export function managedAgentsRoutes(ID: string): ManagedRoute[] {
  return FAMILIES.flatMap((family) => {
    const base = `/v1/${family.path}`
    const routes: ManagedRoute[] = [
      { method: 'POST', path: base, handler: guarded(family, (ctx) => create(ctx, family)) },
      { method: 'GET', path: base, handler: guarded(family, (ctx) => list(ctx, family)) },
      { method: 'GET', path: `${base}/${ID}`, handler: guarded(family, (ctx, [id = '']) => get(ctx, family, id)) },
      { method: 'POST', path: `${base}/${ID}`, handler: guarded(family, (ctx, [id = '']) => update(ctx, family, id)) },
      { method: 'POST', path: `${base}/${ID}/archive`, handler: guarded(family, (ctx, [id = '']) => archive(ctx, family, id)) },
    ]
    if (family.type === 'vault') routes.push({ method: 'POST', path: `${base}/${ID}/credentials`, handler: guarded(family, (ctx, [id = '']) => addCredential(ctx, family, id)) })
    if (family.type === 'tunnel') routes.push({ method: 'POST', path: `${base}/${ID}/reveal_token`, handler: guarded(family, (ctx, [id = '']) => revealToken(ctx, family, id)) })
    return routes
  })
}
