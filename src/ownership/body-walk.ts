/**
 * The walk both reference finders share (files everywhere, Managed Agents objects): every object
 * of a request body, iteratively (nesting cannot overflow the stack), bounded in depth and in
 * references found. Positions are kept as a chain of steps and written out (`messages[0].content`)
 * only for a reference: most bodies cite nothing, and formatting a path per object cost more than
 * the walk.
 */

/** Where a value sits: its parent's place and the member name or index that leads to it. */
export interface Place {
  readonly parent: Place | undefined
  readonly step: string | number
}

export const placeOf = (parent: Place | undefined, step: string | number): Place => ({ parent, step })

/** `messages[0].content[1].source`; the body itself is `(body)`. */
export function placeText(place: Place | undefined): string {
  const steps: Array<string | number> = []
  for (let at = place; at !== undefined; at = at.parent) steps.push(at.step)
  let text = ''
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i] as string | number
    text = typeof step === 'number' ? `${text}[${step}]` : text === '' ? step : `${text}.${step}`
  }
  return text === '' ? '(body)' : text
}

const maxDepth = 256
const maxReferences = 10_000

/**
 * Calls `visit` for every object (arrays are walked through); `visit` reports what it finds and
 * hands the members to walk into to `descend`. Returns undefined once the whole body was seen, or
 * the place where a bound stopped it (past 256 levels, or once `found()` reaches 10 000): callers
 * then cite an id no one owns there, so the request is refused rather than references unchecked.
 */
export function walkBodyObjects(
  json: unknown,
  found: () => number,
  visit: (object: Record<string, unknown>, place: Place | undefined, descend: (value: unknown, place: Place) => void) => void,
): string | undefined {
  const stack: Array<{ value: unknown; place: Place | undefined; depth: number }> = [{ value: json, place: undefined, depth: 0 }]
  while (stack.length > 0) {
    const { value, place, depth } = stack.pop() as { value: unknown; place: Place | undefined; depth: number }
    if (typeof value !== 'object' || value === null) continue
    if (depth > maxDepth || found() >= maxReferences) return placeText(place)
    const descend = (child: unknown, at: Place) => {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, place: at, depth: depth + 1 })
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        const item: unknown = value[i]
        if (typeof item === 'object' && item !== null) descend(item, placeOf(place, i))
      }
      continue
    }
    visit(value as Record<string, unknown>, place, descend)
  }
  return undefined
}
