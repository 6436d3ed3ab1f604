/**
 * Files API in memory (reference §10): upload (multipart field `file`), list, metadata, content,
 * delete. Uploaded files report `downloadable: false` as on the real API, but the mock serves their
 * content anyway so download paths can be tested without a code-execution round trip.
 */
import { badRequest, header, notFound, sendJson, sendRaw } from './http-io.js'
import { newId } from './ids.js'
import { cursorPage } from './pagination.js'
import type { Ctx, StoredFile } from './types.js'

const MIME_BY_EXTENSION: Record<string, string> = {
  txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', json: 'application/json', pdf: 'application/pdf',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
}

function guessMime(filename: string): string {
  const ext = filename.includes('.') ? filename.slice(filename.lastIndexOf('.') + 1).toLowerCase() : ''
  return MIME_BY_EXTENSION[ext] ?? 'application/octet-stream'
}

/** Requests that still send the files beta header get the beta list shape (has_more, first/last id). */
function isBeta(ctx: Ctx): boolean {
  return (header(ctx, 'anthropic-beta') ?? '').includes('files-api-2025-04-14')
}

export function fileJson(file: StoredFile): Record<string, unknown> {
  return {
    id: file.id,
    type: 'file',
    filename: file.filename,
    mime_type: file.mimeType,
    size_bytes: file.data.length,
    created_at: file.createdAt,
    downloadable: file.downloadable,
  }
}

export function handleUploadFile(ctx: Ctx): void {
  const part = ctx.parts?.find((p) => p.name === 'file')
  if (ctx.parts === undefined) {
    badRequest(ctx, 'request must be multipart/form-data with a "file" field')
    return
  }
  if (part === undefined) {
    badRequest(ctx, 'file: Field required')
    return
  }
  const filename = part.filename ?? 'upload'
  const contentType = part.contentType?.split(';')[0]?.trim()
  const mimeType = contentType === undefined || contentType === '' ? guessMime(filename) : contentType
  const file: StoredFile = {
    id: newId('file'), filename, mimeType, createdAt: new Date().toISOString(), downloadable: false, data: Buffer.from(part.data),
  }
  ctx.state.files.set(file.id, file)
  sendJson(ctx, 200, fileJson(file))
}

export function handleListFiles(ctx: Ctx): void {
  const all = [...ctx.state.files.values()].reverse().map(fileJson)
  const page = cursorPage(all, ctx.query)
  const body: Record<string, unknown> = { data: page.data, next_page: page.next_page }
  if (isBeta(ctx)) {
    body.has_more = page.hasMore
    body.first_id = page.data[0]?.id ?? null
    body.last_id = page.data[page.data.length - 1]?.id ?? null
  }
  sendJson(ctx, 200, body)
}

function findFile(ctx: Ctx, id: string): StoredFile | undefined {
  const file = ctx.state.files.get(id)
  if (file === undefined) notFound(ctx, `File not found: ${id}`)
  return file
}

export function handleGetFile(ctx: Ctx, id: string): void {
  const file = findFile(ctx, id)
  if (file !== undefined) sendJson(ctx, 200, fileJson(file))
}

export function handleFileContent(ctx: Ctx, id: string): void {
  const file = findFile(ctx, id)
  if (file === undefined) return
  const disposition = `attachment; filename="${file.filename.replace(/["\\\r\n]/g, '_')}"`
  sendRaw(ctx, 200, file.mimeType, file.data, { 'content-disposition': disposition })
}

export function handleDeleteFile(ctx: Ctx, id: string): void {
  if (findFile(ctx, id) === undefined) return
  ctx.state.files.delete(id)
  sendJson(ctx, 200, { id, type: 'file_deleted' })
}
