import type { Detector } from './detector.js'

/** Anthropic API, admin and OAuth keys: `sk-ant-` then the key body (about 100 characters). */
export const anthropicKey: Detector = {
  name: 'anthropic-key',
  description: 'Anthropic keys (sk-ant-…)',
  regex: '\\bsk-ant-[A-Za-z0-9_-]{20,}',
  maxLength: 256,
}
