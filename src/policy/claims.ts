export type Claims = Readonly<Record<string, unknown>>

/**
 * A claim by exact name, else a dotted path into nested objects where a key may itself contain dots
 * (`kubernetes.io.serviceaccount.uid` reads `claims["kubernetes.io"].serviceaccount.uid`): at each
 * level the longest key that is a prefix of the rest of the path, ending at a dot, wins.
 */
export function readClaim(claims: Claims, name: string): unknown {
  let current: unknown = claims
  let rest = name
  while (rest !== '') {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined
    const object = current as Record<string, unknown>
    if (Object.hasOwn(object, rest)) return object[rest]
    let key = ''
    for (let dot = rest.lastIndexOf('.'); dot > 0; dot = rest.lastIndexOf('.', dot - 1)) {
      if (Object.hasOwn(object, rest.slice(0, dot))) {
        key = rest.slice(0, dot)
        break
      }
    }
    if (key === '') return undefined
    current = object[key]
    rest = rest.slice(key.length + 1)
  }
  return current
}

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
