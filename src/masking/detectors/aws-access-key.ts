import type { Detector } from './detector.js'

/**
 * AWS access key ids: a four-letter resource prefix (AKIA long-term, ASIA temporary, and the
 * other IAM unique-id prefixes) followed by 16 base-32 characters.
 */
export const awsAccessKey: Detector = {
  name: 'aws-access-key',
  description: 'AWS access key ids (AKIA…, ASIA…)',
  regex: '\\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA|A3T[A-Z0-9])[A-Z0-9]{16}\\b',
  maxLength: 20,
}
