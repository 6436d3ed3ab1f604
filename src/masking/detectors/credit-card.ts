import { digitsOf, type Detector } from './detector.js'

/** Luhn (ISO/IEC 7812-1 annex B) over a digit string. */
export function luhnValid(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

/**
 * 13–19 digits, optionally grouped by single spaces or dashes, passing Luhn, with a major-industry
 * identifier of a card network (2 Mastercard, 3 Amex/Diners/JCB, 4 Visa, 5 Mastercard, 6 Discover/
 * UnionPay): without it one in ten 13-digit millisecond timestamps would pass Luhn.
 */
export const creditCard: Detector = {
  name: 'credit-card',
  description: 'payment card numbers (13–19 digits, Luhn, card-network prefix)',
  regex: '\\b[2-6](?:[ -]?[0-9]){12,18}\\b',
  maxLength: 37,
  validate: (match) => {
    const digits = digitsOf(match)
    return digits.length >= 13 && digits.length <= 19 && luhnValid(digits)
  },
}
