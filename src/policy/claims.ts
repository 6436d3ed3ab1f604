import { readPath as readClaim } from '../identity/claims.js'

export type Claims = Readonly<Record<string, unknown>>

/**
 * A claim by exact name, else a dotted path into nested objects where a key may itself contain dots
 * (`kubernetes.io.serviceaccount.uid` reads `claims["kubernetes.io"].serviceaccount.uid`).
 */
export { readClaim }

/** `gha:{repository_owner_id}/{repository_id}`; a missing or non-scalar claim yields no principal. */
export function compilePrincipal(template: string | undefined): (claims: Claims) => string | undefined {
  if (template === undefined) return (claims) => (typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined)
  const parts = template.split(/(\{[^{}]+\})/)
  return function buildPrincipal(claims) {
    let out = ''
    for (const part of parts) {
      if (!part.startsWith('{')) {
        out += part
        continue
      }
      const value = readClaim(claims, part.slice(1, -1))
      if (typeof value === 'string' && value !== '') out += value
      else if (typeof value === 'number' && Number.isFinite(value)) out += String(value)
      else return undefined
    }
    return out
  }
}
