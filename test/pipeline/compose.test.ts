import { describe, expect, it } from 'vitest'
import type { RequestContext } from '../../src/pipeline/context.js'
import { compose } from '../../src/pipeline/compose.js'
import type { Stage } from '../../src/pipeline/stage.js'

const ctx = {} as RequestContext

describe('compose', () => {
  it('runs stages in order, each around the rest', async () => {
    const seen: string[] = []
    const stage = (name: string): Stage =>
      async function named(_ctx, next) {
        seen.push(`${name} in`)
        await next()
        seen.push(`${name} out`)
      }
    await compose([stage('a'), stage('b'), stage('c')])(ctx)
    expect(seen).toEqual(['a in', 'b in', 'c in', 'c out', 'b out', 'a out'])
  })

  it('a stage that stops does not run the rest; errors reach the caller and the stages around', async () => {
    const seen: string[] = []
    const stop: Stage = async () => void seen.push('stop')
    const never: Stage = async () => void seen.push('never')
    await compose([stop, never])(ctx)
    expect(seen).toEqual(['stop'])
    const caught: unknown[] = []
    const outer: Stage = async (_ctx, next) => {
      try {
        await next()
      } catch (error) {
        caught.push(error)
        throw error
      }
    }
    const fails: Stage = async () => {
      throw new Error('boom')
    }
    await expect(compose([outer, fails])(ctx)).rejects.toThrow('boom')
    expect(caught).toHaveLength(1)
  })

  it('a stage that throws synchronously rejects like an async one', async () => {
    const sync = (() => {
      throw new Error('sync boom')
    }) as unknown as Stage
    await expect(compose([sync])(ctx)).rejects.toThrow('sync boom')
  })

  it('refuses next() called twice', async () => {
    const twice: Stage = async function twice(_ctx, next) {
      await next()
      await next()
    }
    const end: Stage = async () => undefined
    await expect(compose([twice, end])(ctx)).rejects.toThrow('stage end called next() twice')
  })
})
