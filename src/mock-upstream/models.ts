/** GET /v1/models and GET /v1/models/{id}: a few ModelInfo entries (reference §11), newest first. */
import { notFound, sendJson } from './http-io.js'
import { idPage } from './pagination.js'
import type { Ctx } from './types.js'

interface ModelSeed {
  id: string
  display_name: string
  created_at: string
  line: 'haiku' | 'sonnet' | 'opus'
  max_tokens: number
  lifecycle?: 'active' | 'deprecated'
  deprecated_at?: string
  retires_at?: string
}

const SEEDS: ModelSeed[] = [
  { id: 'claude-opus-5-5', display_name: 'Claude Opus 5.5', created_at: '2026-09-30T00:00:00Z', line: 'opus', max_tokens: 128000 },
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-05-14T00:00:00Z', line: 'sonnet', max_tokens: 64000 },
  { id: 'claude-opus-4-8', display_name: 'Claude Opus 4.8', created_at: '2026-03-18T00:00:00Z', line: 'opus', max_tokens: 64000 },
  { id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z', line: 'haiku', max_tokens: 64000 },
  {
    id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z', line: 'sonnet', max_tokens: 64000,
    lifecycle: 'deprecated', deprecated_at: '2026-08-31T00:00:00Z', retires_at: '2026-11-30T00:00:00Z',
  },
]

export const MOCK_MODELS: ReadonlyArray<Record<string, unknown> & { id: string }> = SEEDS.map((seed) => ({
  type: 'model',
  id: seed.id,
  display_name: seed.display_name,
  created_at: seed.created_at,
  capabilities: null,
  deprecated_at: seed.deprecated_at ?? null,
  lifecycle: seed.lifecycle ?? 'active',
  line: seed.line,
  max_input_tokens: 200000,
  max_tokens: seed.max_tokens,
  retires_at: seed.retires_at ?? null,
}))

export function handleListModels(ctx: Ctx): void {
  sendJson(ctx, 200, idPage([...MOCK_MODELS], ctx.query))
}

export function handleGetModel(ctx: Ctx, id: string): void {
  const model = MOCK_MODELS.find((m) => m.id === id)
  if (model === undefined) notFound(ctx, `model: ${id}`)
  else sendJson(ctx, 200, model)
}
