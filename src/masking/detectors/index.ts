import type { Detector } from './detector.js'
import { anthropicKey } from './anthropic-key.js'
import { awsAccessKey } from './aws-access-key.js'
import { creditCard } from './credit-card.js'
import { email } from './email.js'
import { githubToken } from './github-token.js'
import { iban } from './iban.js'
import { ipv4 } from './ipv4.js'
import { jwt } from './jwt.js'
import { phone } from './phone.js'
import { privateKey } from './private-key.js'

export type { Detector } from './detector.js'

/**
 * Every built-in detector, by the name used in `masking.profiles.*.detectors` (SPEC §2). The order
 * breaks ties between matches of equal start and length: more specific secrets come first.
 */
export const detectors = {
  'private-key': privateKey,
  'anthropic-key': anthropicKey,
  'aws-access-key': awsAccessKey,
  'github-token': githubToken,
  jwt,
  'credit-card': creditCard,
  iban,
  email,
  phone,
  ipv4,
} as const satisfies Record<string, Detector>

export type DetectorName = keyof typeof detectors

export const detectorNames = Object.keys(detectors) as DetectorName[]

export function isDetectorName(name: string): name is DetectorName {
  return Object.prototype.hasOwnProperty.call(detectors, name)
}
