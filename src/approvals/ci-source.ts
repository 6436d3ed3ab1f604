/**
 * What an approver needs to know about the job that asked (issue #17 item 4): its repository,
 * workflow and run, from the verified token's claims, with a link to the CI run when the claims
 * allow one. Only the well-known GitHub Actions and GitLab CI claims are read; the link is built
 * from the token's own issuer, so it never points at a host the token did not name.
 */
export interface CiSource {
  readonly repository?: string
  readonly workflow?: string
  readonly ref?: string
  /** The run (GitHub `run_id`, with `run_attempt`) or pipeline (GitLab `pipeline_id`). */
  readonly run?: string
  /** The CI run's page. */
  readonly runUrl?: string
}

const githubIssuer = 'https://token.actions.githubusercontent.com'
const safeSegment = /^[A-Za-z0-9_.\-/]{1,200}$/
const digits = /^\d{1,20}$/

export function ciSource(claims: Readonly<Record<string, unknown>>): CiSource | undefined {
  const text = (name: string): string | undefined => {
    const value = claims[name]
    return typeof value === 'string' && value.length > 0 && value.length <= 300 ? value : typeof value === 'number' ? String(value) : undefined
  }
  const repository = text('repository') ?? text('project_path')
  const workflow = text('workflow') ?? text('ci_config_ref_uri')
  const ref = text('ref')
  const runId = text('run_id') ?? text('pipeline_id')
  const attempt = text('run_attempt')
  const run = runId === undefined ? undefined : attempt === undefined ? runId : `${runId} (attempt ${attempt})`
  const runUrl = runLink(text('iss'), repository, runId, attempt, text('pipeline_id') !== undefined)
  const source = {
    ...(repository === undefined ? {} : { repository }),
    ...(workflow === undefined ? {} : { workflow }),
    ...(ref === undefined ? {} : { ref }),
    ...(run === undefined ? {} : { run }),
    ...(runUrl === undefined ? {} : { runUrl }),
  }
  return Object.keys(source).length === 0 ? undefined : source
}

function runLink(iss: string | undefined, repository: string | undefined, runId: string | undefined, attempt: string | undefined, gitlab: boolean): string | undefined {
  if (iss === undefined || repository === undefined || runId === undefined) return undefined
  if (!safeSegment.test(repository) || repository.includes('..') || !digits.test(runId)) return undefined
  if (iss === githubIssuer && !gitlab) {
    const suffix = attempt !== undefined && digits.test(attempt) ? `/attempts/${attempt}` : ''
    return `https://github.com/${repository}/actions/runs/${runId}${suffix}`
  }
  // GitLab (gitlab.com or self-managed): the issuer is the instance's https origin.
  if (gitlab && /^https:\/\/[A-Za-z0-9.-]+(:\d+)?$/.test(iss)) return `${iss}/${repository}/-/pipelines/${runId}`
  return undefined
}
