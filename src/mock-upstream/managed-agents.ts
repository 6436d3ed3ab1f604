/**
 * Managed Agents families (claude-api-2026.md §4), as far as the gateway's tests need them: create,
 * get, list, update and archive of agents, environments, sessions (with events sent and listed),
 * deployments (with `run`, and the runs under `/v1/deployment_runs`), vaults (with credentials),
 * memory stores (with memories written) and tunnels (with `reveal_token`). Shapes follow `@anthropic-ai/sdk` 1.14 `beta.*`. Each family needs its beta header:
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

/** Event types a client may send (SDK `BetaManagedAgentsEventParams`); others are 400. */
const CLIENT_EVENTS = new Set(['user.message', 'user.interrupt', 'user.tool_confirmation', 'user.custom_tool_result', 'user.define_outcome', 'user.tool_result', 'system.message'])

/** `POST /v1/sessions/{id}/events`: `{events: [...]}` → `{data: [...]}`, each event with an id and `processed_at`. */
function sendEvents(ctx: Ctx, sessions: Family, id: string): void {
  if (!find(ctx, sessions, id)) return
  const events = body(ctx).events
  if (!Array.isArray(events) || events.length === 0) return badRequest(ctx, 'events: Field required')
  for (const [i, event] of events.entries()) {
    if (!isRecord(event) || typeof event.type !== 'string' || !CLIENT_EVENTS.has(event.type)) return badRequest(ctx, `events.${i}.type: not an event a client can send`)
  }
  const sent = (events as Record<string, unknown>[]).map((event) => ({ ...event, id: newId('sevt'), processed_at: isoNow() }))
  ctx.state.sessionEvents.set(id, [...(ctx.state.sessionEvents.get(id) ?? []), ...sent])
  sendJson(ctx, 200, { data: sent })
}

function listEvents(ctx: Ctx, sessions: Family, id: string): void {
  if (!find(ctx, sessions, id)) return
  sendJson(ctx, 200, { data: ctx.state.sessionEvents.get(id) ?? [], next_page: null })
}

/** `POST /v1/deployments/{id}/run`: a run that started a session at once (SDK `BetaManagedAgentsDeploymentRun`). */
function runDeployment(ctx: Ctx, deployments: Family, id: string): void {
  const deployment = find(ctx, deployments, id)
  if (!deployment) return
  const session = { id: newId('sesn'), type: 'session', status: 'running', agent: deployment.agent ?? null, environment_id: deployment.environment_id ?? null, deployment_id: id, created_at: isoNow(), updated_at: isoNow(), archived_at: null }
  ctx.state.managed.set(session.id, session)
  const run = { id: newId('drun'), type: 'deployment_run', deployment_id: id, session_id: session.id, agent: deployment.agent ?? null, error: null, trigger_context: { type: 'manual' }, created_at: isoNow() }
  ctx.state.managed.set(run.id, run)
  sendJson(ctx, 200, run)
}

/** `POST /v1/memory_stores/{id}/memories`: `{path, content}` → the memory (SDK `BetaManagedAgentsMemory`), content echoed. */
function writeMemory(ctx: Ctx, stores: Family, id: string): void {
  if (!find(ctx, stores, id)) return
  const input = body(ctx)
  if (typeof input.path !== 'string') return badRequest(ctx, 'path: Field required')
  const content = typeof input.content === 'string' ? input.content : null
  sendJson(ctx, 200, { id: newId('mem'), type: 'memory', memory_store_id: id, memory_version_id: newId('memver'), path: input.path, content, content_size_bytes: Buffer.byteLength(content ?? ''), created_at: isoNow(), updated_at: isoNow() })
}

const RUNS: Family = { path: 'deployment_runs', type: 'deployment_run', idPrefix: 'drun', beta: 'managed-agents-2026-04-01' }

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
    if (family.type === 'session') {
      routes.push({ method: 'POST', path: `${base}/${ID}/events`, handler: guarded(family, (ctx, [id = '']) => sendEvents(ctx, family, id)) })
      routes.push({ method: 'GET', path: `${base}/${ID}/events`, handler: guarded(family, (ctx, [id = '']) => listEvents(ctx, family, id)) })
    }
    if (family.type === 'memory_store') routes.push({ method: 'POST', path: `${base}/${ID}/memories`, handler: guarded(family, (ctx, [id = '']) => writeMemory(ctx, family, id)) })
    if (family.type === 'deployment') routes.push({ method: 'POST', path: `${base}/${ID}/run`, handler: guarded(family, (ctx, [id = '']) => runDeployment(ctx, family, id)) })
    return routes
  }).concat([
    { method: 'GET', path: '/v1/deployment_runs', handler: guarded(RUNS, (ctx) => list(ctx, RUNS)) },
    { method: 'GET', path: `/v1/deployment_runs/${ID}`, handler: guarded(RUNS, (ctx, [id = '']) => get(ctx, RUNS, id)) },
  ])
}
