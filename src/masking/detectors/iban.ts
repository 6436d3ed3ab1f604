import type { Detector } from './detector.js'

/** ISO 13616 check: move the first four characters to the end, letters to 10–35, mod 97 = 1. */
export function ibanValid(candidate: string): boolean {
  const compact = candidate.replace(/ /g, '')
  if (compact.length < 15 || compact.length > 34) return false
  const rearranged = compact.slice(4) + compact.slice(0, 4)
  let remainder = 0
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0)
    const value = code >= 65 ? code - 55 : code - 48
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97
  }
  return remainder === 1
}

/** Country code, check digits, then up to 30 alphanumerics, optionally grouped by single spaces. */
export const iban: Detector = {
  name: 'iban',
  description: 'IBANs (ISO 13616, mod-97 checksum), compact or grouped by spaces',
  regex: '\\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\\b',
  maxLength: 64,
  validate: ibanValid,
}
