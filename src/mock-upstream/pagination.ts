/**
 * The two list shapes of the API: id pages `{data, has_more, first_id, last_id}` with `after_id` /
 * `before_id` (models, batches) and cursor pages `{data, next_page}` with `page` (files, skills).
 */

function limitOf(query: URLSearchParams, max: number): number {
  const raw = query.get('limit')
  const n = raw === null ? 20 : Number(raw)
  return Number.isInteger(n) ? Math.min(Math.max(n, 1), max) : 20
}

export interface IdPage<T> {
  data: T[]
  has_more: boolean
  first_id: string | null
  last_id: string | null
}

export function idPage<T extends { id: string }>(items: T[], query: URLSearchParams, max = 1000): IdPage<T> {
  const limit = limitOf(query, max)
  const afterId = query.get('after_id')
  const beforeId = query.get('before_id')
  let start = 0
  let end = Math.min(items.length, limit)
  let hasMore = end < items.length
  if (afterId !== null) {
    const at = items.findIndex((item) => item.id === afterId)
    start = at === -1 ? items.length : at + 1
    end = Math.min(items.length, start + limit)
    hasMore = end < items.length
  } else if (beforeId !== null) {
    const at = items.findIndex((item) => item.id === beforeId)
    end = at === -1 ? 0 : at
    start = Math.max(0, end - limit)
    hasMore = start > 0
  }
  const data = items.slice(start, end)
  return { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null }
}

export interface CursorPage<T> {
  data: T[]
  next_page: string | null
  offset: number
  hasMore: boolean
}

/** `page` tokens are opaque to clients; here they encode the offset. */
export function cursorPage<T>(items: T[], query: URLSearchParams, max = 1000): CursorPage<T> {
  const limit = limitOf(query, max)
  const token = query.get('page')
  let offset = 0
  if (token !== null && token !== '') {
    const decoded = Number(Buffer.from(token.replace(/^page_/, ''), 'base64url').toString('utf8'))
    offset = Number.isInteger(decoded) && decoded >= 0 ? decoded : items.length
  }
  const data = items.slice(offset, offset + limit)
  const hasMore = offset + limit < items.length
  const next = hasMore ? `page_${Buffer.from(String(offset + limit)).toString('base64url')}` : null
  return { data, next_page: next, offset, hasMore }
}
