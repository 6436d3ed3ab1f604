import { z } from 'zod'
import type { AuditDecision, AuditState } from '../audit/record.js'

/** Query and body pieces shared by several routes. Query values arrive as strings. */

export const limitParam = (max = 1000, fallback = 50) =>
  z
    .string()
    .regex(/^[0-9]{1,7}$/, 'expected a whole number')
    .describe(`Page size, 1 to ${max}; default ${fallback}.`)
    .transform(Number)
    .pipe(z.number().int().min(1, `expected 1 to ${max}`).max(max, `expected 1 to ${max}`))
    .optional()
    .transform((value) => value ?? fallback)

/** An ISO 8601 time (`2026-08-01T00:00:00Z`), in a query or a body. */
export const isoDate = z
  .string()
  .min(1)
  .describe('An ISO 8601 time, e.g. 2026-08-01T12:00:00Z.')
  .refine((text) => !Number.isNaN(new Date(text).getTime()), 'expected an ISO 8601 time such as 2026-08-01T12:00:00Z')
  .transform((text) => new Date(text))

export const cursorParam = z.string().min(1).max(200).describe('nextCursor of the previous page.').optional()

export const auditFilterShape = {
  principal: z.string().min(1).optional(),
  actor: z.string().min(1).optional(),
  rule: z.string().min(1).optional(),
  skill: z.string().min(1).optional(),
  clientSession: z.string().min(1).max(128).optional().describe('x-claude-code-session-id; add principal to scope it to one caller.'),
  endpoint: z.string().min(1).max(64).optional().describe('The endpoint as records name it, e.g. messages or mcp.tools.call.'),
  decision: z.enum(['allow', 'deny', 'approval_required'] as const satisfies readonly AuditDecision[]).optional(),
  outcome: z.enum(['completed', 'interrupted', 'denied', 'error', 'open'] as const satisfies readonly AuditState[]).optional(),
  since: isoDate.optional(),
  until: isoDate.optional(),
}

/** `{ "$ref": "#/components/schemas/NAME" }` for the OpenAPI document (schemas live in openapi-schemas.ts). */
export const ref = (name: string): Readonly<Record<string, unknown>> => ({ $ref: `#/components/schemas/${name}` })
