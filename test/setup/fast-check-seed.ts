/**
 * Property tests are an instrument, not a lottery: under CI every fast-check run uses one fixed
 * seed, so a green main stays green on a clean clone. Locally each run gets a fresh seed (that is
 * how new bugs are found) and fast-check prints it on failure; `SKILLGATE_FUZZ_SEED=<seed>` replays
 * it anywhere.
 */
import fc from 'fast-check'

export const CI_FUZZ_SEED = 20_261_206

const fromEnv = process.env.SKILLGATE_FUZZ_SEED
const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : process.env.CI === 'true' ? CI_FUZZ_SEED : undefined

if (seed !== undefined) {
  if (!Number.isSafeInteger(seed)) throw new Error(`SKILLGATE_FUZZ_SEED must be an integer, got ${JSON.stringify(fromEnv)}`)
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed })
}
