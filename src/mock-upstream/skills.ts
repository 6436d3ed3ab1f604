/**
 * Skills API in memory, GA shapes (reference §10). Uploads are multipart `files[]` under one top-level
 * directory holding a SKILL.md whose frontmatter gives the name and description. The Anthropic skills
 * (pptx, xlsx, docx, pdf) are always present and read-only. Requests carrying the `skills-2025-10-02`
 * beta header also get the beta field names (display_title, latest_version, source as a string).
 */
import { badRequest, header, notFound, sendError, sendJson } from './http-io.js'
import { newId } from './ids.js'
import { ANTHROPIC_SKILL_LATEST } from './container.js'
import type { MultipartPart } from './multipart.js'
import { cursorPage } from './pagination.js'
import type { Ctx, StoredSkill, StoredSkillVersion } from './types.js'

const ANTHROPIC_SKILLS: ReadonlyArray<[string, string, string]> = [
  ['pptx', 'PowerPoint', 'Create and edit PowerPoint presentations'],
  ['xlsx', 'Excel', 'Create and analyse Excel spreadsheets'],
  ['docx', 'Word', 'Create and edit Word documents'],
  ['pdf', 'PDF', 'Read, fill and create PDF documents'],
]

export function seedAnthropicSkills(skills: Map<string, StoredSkill>): void {
  const at = '2025-10-13T00:00:00Z'
  for (const [id, displayName, description] of ANTHROPIC_SKILLS) {
    const version: StoredSkillVersion = { id: ANTHROPIC_SKILL_LATEST, skillId: id, name: id, description, createdAt: at }
    skills.set(id, { id, displayName, source: 'anthropic', createdAt: at, updatedAt: at, versions: [version] })
  }
}

function isBeta(ctx: Ctx): boolean {
  return (header(ctx, 'anthropic-beta') ?? '').includes('skills-2025-10-02')
}

function skillJson(skill: StoredSkill, beta: boolean): Record<string, unknown> {
  const latest = skill.versions[0]?.id ?? null
  const out: Record<string, unknown> = {
    id: skill.id, type: 'skill', display_name: skill.displayName, latest_version_id: latest,
    source: beta ? skill.source : { type: skill.source }, created_at: skill.createdAt, updated_at: skill.updatedAt,
  }
  if (beta) Object.assign(out, { display_title: skill.displayName, latest_version: latest })
  return out
}

function versionJson(version: StoredSkillVersion, beta: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: version.id, type: 'skill_version', skill_id: version.skillId, name: version.name,
    description: version.description, created_at: version.createdAt,
  }
  if (beta) Object.assign(out, { version: version.id, directory: version.name })
  return out
}

function frontmatter(text: string): Record<string, string> {
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)
  const out: Record<string, string> = {}
  for (const line of (match?.[1] ?? '').split(/\r?\n/)) {
    const kv = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line)
    if (kv?.[1] !== undefined) out[kv[1]] = (kv[2] ?? '').trim().replace(/^(["'])(.*)\1$/, '$2')
  }
  return out
}

interface Upload {
  name: string
  description: string
  displayName: string | undefined
}

/** Reads an upload; returns the error message when it is not a valid skill directory. */
function parseUpload(parts: MultipartPart[] | undefined): Upload | string {
  if (parts === undefined) return 'request must be multipart/form-data with "files[]" fields'
  const files = parts.filter((p) => (p.name === 'files[]' || p.name === 'files') && p.filename !== undefined)
  if (files.length === 0) return 'files: Field required'
  const dirs = new Set(files.map((f) => (f.filename?.includes('/') === true ? f.filename.split('/')[0] : '')))
  if (dirs.size !== 1) return 'all files must be in the same top-level directory'
  const dir = [...dirs][0] ?? ''
  const skillMd = files.find((f) => f.filename === (dir === '' ? 'SKILL.md' : `${dir}/SKILL.md`))
  if (skillMd === undefined) return 'SKILL.md file must be exactly in the top-level folder'
  const meta = frontmatter(skillMd.data.toString('utf8'))
  const name = meta.name ?? dir
  if (name === '') return 'SKILL.md frontmatter must have a name'
  const title = parts.find((p) => (p.name === 'display_name' || p.name === 'display_title') && p.filename === undefined)
  return { name, description: meta.description ?? '', displayName: title?.data.toString('utf8') }
}

export function handleCreateSkill(ctx: Ctx): void {
  const upload = parseUpload(ctx.parts)
  if (typeof upload === 'string') {
    badRequest(ctx, upload)
    return
  }
  const now = new Date().toISOString()
  const id = newId('skill')
  const version: StoredSkillVersion = { id: newId('skver'), skillId: id, name: upload.name, description: upload.description, createdAt: now }
  const skill: StoredSkill = { id, displayName: upload.displayName ?? upload.name, source: 'custom', createdAt: now, updatedAt: now, versions: [version] }
  ctx.state.skills.set(id, skill)
  sendJson(ctx, 200, skillJson(skill, isBeta(ctx)))
}

export function handleListSkills(ctx: Ctx): void {
  const source = ctx.query.get('source')
  const all = [...ctx.state.skills.values()]
  const custom = all.filter((s) => s.source === 'custom').reverse()
  const anthropic = all.filter((s) => s.source === 'anthropic')
  const items = source === 'custom' ? custom : source === 'anthropic' ? anthropic : [...custom, ...anthropic]
  sendPage(ctx, items.map((s) => skillJson(s, isBeta(ctx))))
}

function sendPage(ctx: Ctx, items: Array<Record<string, unknown>>): void {
  const page = cursorPage(items, ctx.query, 100)
  const body: Record<string, unknown> = { data: page.data, next_page: page.next_page }
  if (isBeta(ctx)) body.has_more = page.hasMore
  sendJson(ctx, 200, body)
}

function findSkill(ctx: Ctx, id: string): StoredSkill | undefined {
  const skill = ctx.state.skills.get(id)
  if (skill === undefined) notFound(ctx, `Skill not found: ${id}`)
  return skill
}

function writable(ctx: Ctx, skill: StoredSkill): boolean {
  if (skill.source === 'custom') return true
  sendError(ctx, 403, 'permission_error', 'Anthropic skills are read-only')
  return false
}

export function handleGetSkill(ctx: Ctx, id: string): void {
  const skill = findSkill(ctx, id)
  if (skill !== undefined) sendJson(ctx, 200, skillJson(skill, isBeta(ctx)))
}

export function handleDeleteSkill(ctx: Ctx, id: string): void {
  const skill = findSkill(ctx, id)
  if (skill === undefined || !writable(ctx, skill)) return
  ctx.state.skills.delete(id)
  sendJson(ctx, 200, { id, type: 'skill_deleted' })
}

export function handleCreateVersion(ctx: Ctx, skillId: string): void {
  const skill = findSkill(ctx, skillId)
  if (skill === undefined || !writable(ctx, skill)) return
  const upload = parseUpload(ctx.parts)
  if (typeof upload === 'string' || upload.name !== skill.versions[0]?.name) {
    badRequest(ctx, typeof upload === 'string' ? upload : `skill name must stay "${skill.versions[0]?.name ?? ''}"`)
    return
  }
  const now = new Date().toISOString()
  const version: StoredSkillVersion = { id: newId('skver'), skillId, name: upload.name, description: upload.description, createdAt: now }
  skill.versions.unshift(version)
  skill.updatedAt = now
  sendJson(ctx, 200, versionJson(version, isBeta(ctx)))
}

export function handleListVersions(ctx: Ctx, skillId: string): void {
  const skill = findSkill(ctx, skillId)
  if (skill !== undefined) sendPage(ctx, skill.versions.map((v) => versionJson(v, isBeta(ctx))))
}

function findVersion(ctx: Ctx, skill: StoredSkill, version: string): StoredSkillVersion | undefined {
  const wanted = version === 'latest' ? skill.versions[0]?.id : version
  const found = skill.versions.find((v) => v.id === wanted)
  if (found === undefined) notFound(ctx, `Skill version not found: ${version}`)
  return found
}

export function handleGetVersion(ctx: Ctx, skillId: string, version: string): void {
  const skill = findSkill(ctx, skillId)
  const found = skill === undefined ? undefined : findVersion(ctx, skill, version)
  if (found !== undefined) sendJson(ctx, 200, versionJson(found, isBeta(ctx)))
}

export function handleDeleteVersion(ctx: Ctx, skillId: string, version: string): void {
  const skill = findSkill(ctx, skillId)
  if (skill === undefined || !writable(ctx, skill)) return
  const found = findVersion(ctx, skill, version)
  if (found === undefined) return
  if (skill.versions.length === 1) {
    badRequest(ctx, 'a skill keeps at least one version; delete the skill instead')
    return
  }
  skill.versions = skill.versions.filter((v) => v !== found)
  sendJson(ctx, 200, { id: found.id, type: 'skill_version_deleted' })
}
