/** Placeholder until the Linux target exists: no three-node files, nothing to check. */
export interface ThreeNodeOutcome {
  ok: boolean;
  report: string[];
}
export async function threeNodeFiles(_here: string): Promise<Record<string, string>> {
  return {};
}
export function checkThreeNodeLines(_lines: readonly string[]): ThreeNodeOutcome | undefined {
  return undefined;
}
