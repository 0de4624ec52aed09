/**
 * ZooKeeper's error codes (KeeperException.Code in the wire protocol), as
 * numbers, so code that only inspects a failure need not load the client
 * library: the store loads node-zookeeper-client only when it connects.
 * test/store/zk-codes.test.ts holds them equal to the library's.
 */
export const ZK = {
  NO_NODE: -101,
  NO_AUTH: -102,
  BAD_VERSION: -103,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
} as const;

/** The ZooKeeper error code of a failed call (`BAD_VERSION` → -103), if it is one. */
export function zkCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
