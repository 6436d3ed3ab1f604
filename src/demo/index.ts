/**
 * `skillgate demo` (SPEC §1): the all-local tour. `startDemoStack` brings up the mock Claude API, a
 * local issuer and the gateway; `runTour` plays the sample CI job against them and narrates it.
 *
 * @example
 * const stack = await startDemoStack({ port: 0 })
 * const { ok } = await runTour(stack, { autoApprove: true, write: (t) => process.stdout.write(t) })
 * await stack.close()
 */
export { startDemoStack, type DemoStack, type DemoStackOptions } from './demo-stack.js'
export { runTour, type TourOptions, type TourResult } from './tour.js'
export { printStillRunning } from './narration.js'
export { DEMO_RULE, DEMO_SKILL } from './demo-config.js'
