/**
 * A list answer cut down to the caller's objects (batches: `{data, has_more, first_id, last_id}`;
 * files: `{data, next_page}`, beta also `has_more`, `first_id`, `last_id`).
 *
 * Pagination stays correct without the gateway fetching more pages: `has_more` and `next_page` pass
 * unchanged, and `first_id` / `last_id` name the first and last item kept, so `after_id=last_id`
 * continues right after the last item the caller saw; the items skipped in between belong to others
 * and are filtered out again. A page may therefore hold fewer items than `limit`, or none, while
 * `has_more` is true. When a page keeps none, `first_id` / `last_id` stay as upstream sent them:
 * cursors the caller can continue from, naming objects it cannot read (a read is 404).
 */
export interface FilteredPage {
  readonly body: Record<string, unknown>
  /** Items the caller was not shown. */
  readonly removed: number
}

/** Ids of the page's items, for the owner lookup; undefined when the answer is no list page. */
export function pageIds(body: unknown): string[] | undefined {
  if (!isObject(body) || !Array.isArray(body.data)) return undefined
  return body.data.map((item) => (isObject(item) && typeof item.id === 'string' ? item.id : ''))
}

export function filterPage(body: Record<string, unknown>, keep: (id: string) => boolean): FilteredPage {
  const data = Array.isArray(body.data) ? body.data : []
  const kept = data.filter((item) => isObject(item) && typeof item.id === 'string' && keep(item.id)) as Array<{ id: string }>
  const out: Record<string, unknown> = { ...body, data: kept }
  const first = kept[0]
  const last = kept.at(-1)
  if (first !== undefined && last !== undefined) {
    if ('first_id' in body) out.first_id = first.id
    if ('last_id' in body) out.last_id = last.id
  }
  return { body: out, removed: data.length - kept.length }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
