import type { CriterionName } from '../reasons.js'
import { clientSkillCriterion } from './client-skill.js'
import { containerCriterion } from './container.js'
import type { Criterion } from './criterion.js'
import { endpointCriterion } from './endpoint.js'
import { maxTokensCriterion } from './max-tokens.js'
import { mcpServerCriterion } from './mcp-server.js'
import { modelCriterion } from './model.js'
import { skillCriterion } from './skill.js'
import { toolCriterion } from './tool.js'

/**
 * Every grant dimension, explicitly (no registration by import side effect). Evaluation runs them in
 * this order, so the first denial named to a client is the most basic one (endpoint before model…).
 */
export const criteria: Readonly<Record<CriterionName, Criterion>> = {
  endpoint: endpointCriterion,
  model: modelCriterion,
  skill: skillCriterion,
  tool: toolCriterion,
  'mcp-server': mcpServerCriterion,
  'max-tokens': maxTokensCriterion,
  container: containerCriterion,
  'client-skill': clientSkillCriterion,
}

export const criterionOrder = Object.keys(criteria) as CriterionName[]

export type { Criterion, GrantCheck, GrantInput, GrantProblem, GrantResult } from './criterion.js'
