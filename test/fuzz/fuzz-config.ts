/**
 * Fuzz runs are bounded and reproducible: a fixed seed, and a run count that
 * CI keeps small and `npm run fuzz` (FUZZ_RUNS=...) makes large.
 */
export const FUZZ = {
  seed: Number(process.env.FUZZ_SEED ?? 20261122),
  numRuns: Number(process.env.FUZZ_RUNS ?? 300),
} as const;
