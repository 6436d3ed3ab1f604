/**
 * Request lifecycle of the mock, in order: read and record the request, (federation token endpoint,
 * which needs no credential), authenticate, require anthropic-version, optional first-byte delay, route.
 * Routing uses the pathname only, so `?beta=true` is tolerated everywhere.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { authenticate } from './auth.js'
import * as batches from './batches.js'
import * as files from './files.js'
import { badRequest, header, intHeader, notFound, sendError, sleep } from './http-io.js'
import { newRequestId } from './ids.js'
import { handleCountTokens, handleMessages } from './messages.js'
import { managedAgentsRoutes } from './managed-agents.js'
import { handleGetModel, handleListModels } from './models.js'
import { handleOauthToken } from './oauth.js'
import { readBody, recordRequest } from './record.js'
import * as skills from './skills.js'
import type { Ctx, MockState } from './types.js'

type Handler = (ctx: Ctx, params: string[]) => void | Promise<void>

interface Route {
  method: string
  pattern: RegExp
  handler: Handler
}

const ID = '([^/]+)'

function p(method: string, path: string, handler: Handler): Route {
  return { method, pattern: new RegExp(`^${path}$`), handler }
}

/** Params are passed decoded; a path segment that is not valid percent-encoding never matches an id. */
const ROUTES: Route[] = [
  p('POST', '/v1/messages', (ctx) => handleMessages(ctx)),
  p('POST', '/v1/messages/count_tokens', (ctx) => handleCountTokens(ctx)),
  p('POST', '/v1/messages/batches', (ctx) => batches.handleCreateBatch(ctx)),
  p('GET', '/v1/messages/batches', (ctx) => batches.handleListBatches(ctx)),
  p('GET', `/v1/messages/batches/${ID}`, (ctx, [id = '']) => batches.handleGetBatch(ctx, id)),
  p('DELETE', `/v1/messages/batches/${ID}`, (ctx, [id = '']) => batches.handleDeleteBatch(ctx, id)),
  p('POST', `/v1/messages/batches/${ID}/cancel`, (ctx, [id = '']) => batches.handleCancelBatch(ctx, id)),
  p('GET', `/v1/messages/batches/${ID}/results`, (ctx, [id = '']) => batches.handleBatchResults(ctx, id)),
  p('GET', '/v1/models', (ctx) => handleListModels(ctx)),
  p('GET', `/v1/models/${ID}`, (ctx, [id = '']) => handleGetModel(ctx, id)),
  p('POST', '/v1/files', (ctx) => files.handleUploadFile(ctx)),
  p('GET', '/v1/files', (ctx) => files.handleListFiles(ctx)),
  p('GET', `/v1/files/${ID}`, (ctx, [id = '']) => files.handleGetFile(ctx, id)),
  p('DELETE', `/v1/files/${ID}`, (ctx, [id = '']) => files.handleDeleteFile(ctx, id)),
  p('GET', `/v1/files/${ID}/content`, (ctx, [id = '']) => files.handleFileContent(ctx, id)),
  p('POST', '/v1/skills', (ctx) => skills.handleCreateSkill(ctx)),
  p('GET', '/v1/skills', (ctx) => skills.handleListSkills(ctx)),
  p('GET', `/v1/skills/${ID}`, (ctx, [id = '']) => skills.handleGetSkill(ctx, id)),
  p('DELETE', `/v1/skills/${ID}`, (ctx, [id = '']) => skills.handleDeleteSkill(ctx, id)),
  p('POST', `/v1/skills/${ID}/versions`, (ctx, [id = '']) => skills.handleCreateVersion(ctx, id)),
  p('GET', `/v1/skills/${ID}/versions`, (ctx, [id = '']) => skills.handleListVersions(ctx, id)),
  p('GET', `/v1/skills/${ID}/versions/${ID}`, (ctx, [id = '', v = '']) => skills.handleGetVersion(ctx, id, v)),
  p('DELETE', `/v1/skills/${ID}/versions/${ID}`, (ctx, [id = '', v = '']) => skills.handleDeleteVersion(ctx, id, v)),
  ...managedAgentsRoutes(ID).map((route) => p(route.method, route.path, route.handler)),
]

function decodeParams(match: RegExpExecArray): string[] | undefined {
  try {
    return match.slice(1).map((segment) => decodeURIComponent(segment))
  } catch {
    return undefined
  }
}

async function route(ctx: Ctx): Promise<void> {
  const { method, path } = ctx.rec
  let pathMatched = false
  for (const r of ROUTES) {
    const match = r.pattern.exec(path)
    if (match === null) continue
    pathMatched = true
    if (r.method !== method) continue
    const params = decodeParams(match)
    if (params === undefined) break
    await r.handler(ctx, params)
    return
  }
  if (pathMatched) sendError(ctx, 405, 'invalid_request_error', `Method ${method} not allowed for ${path}`)
  else notFound(ctx)
}

function record(state: MockState, ctx: Ctx): void {
  state.requests.push(ctx.rec)
  // Trim in batches: keeps the cost amortised O(1) while the array object itself stays the same.
  if (state.requests.length > state.maxRecorded * 2) state.requests.splice(0, state.requests.length - state.maxRecorded)
}

async function lifecycle(ctx: Ctx): Promise<void> {
  if (ctx.rec.method === 'POST' && ctx.rec.path === '/v1/oauth/token') {
    handleOauthToken(ctx)
    return
  }
  const auth = authenticate(ctx)
  if (!auth.ok) {
    sendError(ctx, 401, 'authentication_error', auth.message)
    return
  }
  if (header(ctx, 'anthropic-version') === undefined) {
    badRequest(ctx, 'anthropic-version: header is required')
    return
  }
  const firstByteDelay = intHeader(ctx, 'mock-first-byte-delay-ms')
  if (firstByteDelay !== undefined && !(await sleep(ctx.res, firstByteDelay))) return
  await route(ctx)
}

export async function handleRequest(state: MockState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const receivedAt = Date.now()
  const requestId = newRequestId()
  let body: Buffer
  try {
    body = await readBody(req)
  } catch {
    res.destroy()
    return
  }
  const { rec, parts } = recordRequest(req, body, receivedAt)
  const ctx: Ctx = { req, res, state, rec, requestId, query: new URLSearchParams(rec.search), parts }
  record(state, ctx)
  try {
    await lifecycle(ctx)
  } catch (err) {
    // A mock bug must still answer in the API's error dialect, so tests fail with a readable message.
    const message = err instanceof Error ? err.message : String(err)
    if (!res.headersSent) sendError(ctx, 500, 'api_error', `mock upstream failure: ${message}`)
    else res.destroy()
  }
}
