import zookeeper from 'node-zookeeper-client';
import { describe, expect, it } from 'vitest';
import { ZK, zkCode } from '../../src/store/zk-codes.js';

describe('the ZooKeeper error codes the store checks without loading the client', () => {
  it('are the client library’s own', () => {
    const { Exception } = zookeeper;
    expect(ZK).toEqual({
      NO_NODE: Exception.NO_NODE,
      NO_AUTH: Exception.NO_AUTH,
      BAD_VERSION: Exception.BAD_VERSION,
      NODE_EXISTS: Exception.NODE_EXISTS,
      NOT_EMPTY: Exception.NOT_EMPTY,
    });
  });

  it('are read from a failure only when it carries a numeric code', () => {
    expect(zkCode(Object.assign(new Error('BAD_VERSION'), { code: zookeeper.Exception.BAD_VERSION }))).toBe(-103);
    expect(zkCode(new Error('plain'))).toBeUndefined();
    expect(zkCode({ code: 'ENOENT' })).toBeUndefined();
    expect(zkCode(null)).toBeUndefined();
  });
});
