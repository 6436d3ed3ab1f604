import { digitsOf, type Detector } from './detector.js'

/**
 * Two shapes with few false positives: international numbers written with a leading "+" (E.164:
 * at most 15 digits), and North-American numbers written with separators ("(555) 123-4567",
 * "555-123-4567"). Bare digit runs are left alone: they are as often ids, amounts or dates.
 */
const INTERNATIONAL = '\\B\\+[1-9](?:[ .()-]{0,2}[0-9]){6,14}\\b'
const NORTH_AMERICAN = '(?:\\B\\([0-9]{3}\\) ?|\\b[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}\\b'

export const phone: Detector = {
  name: 'phone',
  description: 'phone numbers: +E.164 with optional separators, or NANP with separators',
  regex: `${INTERNATIONAL}|${NORTH_AMERICAN}`,
  maxLength: 48,
  validate: (match) => {
    const digits = digitsOf(match).length
    return digits >= 7 && digits <= 15
  },
}
