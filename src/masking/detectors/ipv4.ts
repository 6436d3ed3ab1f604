import type { Detector } from './detector.js'

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'

/** Dotted-quad IPv4 addresses with octets 0–255 and no leading zeros. */
export const ipv4: Detector = {
  name: 'ipv4',
  description: 'IPv4 addresses (dotted quad)',
  regex: `\\b${OCTET}(?:\\.${OCTET}){3}\\b`,
  maxLength: 15,
}
