import { createJsonlSink, type JsonlSinkOptions } from './jsonl.js'
import type { AuditSink, SinkSecret } from './types.js'
import { createWebhookSink, type WebhookSinkOptions } from './webhook.js'

export { createJsonlSink, createWebhookSink, type JsonlSinkOptions, type WebhookSinkOptions }
export { signatureHeader, signWebhookBody, verifyWebhookSignature, type VerifySignatureOptions } from './signature.js'
export type { AuditSink, AuditSinkStats, SinkSecret } from './types.js'

/** One entry of `audit.sinks` (SPEC §2) with its secret already resolved by the config layer. */
export type AuditSinkSpec =
  | { readonly webhook: { readonly url: string; readonly secret?: SinkSecret | undefined } }
  | { readonly jsonl: { readonly path: string } }

export interface AuditSinkTuning {
  readonly webhook?: Omit<WebhookSinkOptions, 'url' | 'secret'>
  readonly jsonl?: Omit<JsonlSinkOptions, 'path'>
}

/** The sink registry: one explicit switch, no registration by import side effect. */
export function createAuditSink(spec: AuditSinkSpec, tuning: AuditSinkTuning = {}): AuditSink {
  if ('webhook' in spec) return createWebhookSink({ ...tuning.webhook, url: spec.webhook.url, secret: spec.webhook.secret })
  return createJsonlSink({ ...tuning.jsonl, path: spec.jsonl.path })
}
