/**
 * Lookups by a name that comes from a state or a command line: `in` and
 * `obj[name]` also find Object.prototype's members, so `vdc: constructor`
 * passed the vDC reference check. Only an own property counts.
 */
export function own<T>(obj: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}
