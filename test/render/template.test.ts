import { describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors.js';
import { template } from '../../src/render/template.js';

describe('templates from templates/', () => {
  it('do not HTML-escape: config text comes out as given', () => {
    const text = template('ipf.conf-020-overlays.hbs')({ node: 'a&b<c>="d"', externalIp: '192.0.2.1', rules: [] });
    expect(text).toContain('a&b<c>="d"');
  });

  it('refuse a missing variable instead of rendering it empty, and never show the view in the error', () => {
    const view = { node: 'n', peers: [{ name: 'p', local: '192.0.2.1', remote: '192.0.2.2', secret: 'SEKRIT' }] };
    let err: unknown;
    try {
      template('ike.preshared.hbs')(view);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InternalError);
    // The field and where the template reads it (line 11, column 11: `{{key}}`).
    expect((err as Error).message).toMatch(/^template ike.preshared.hbs failed: "key" not defined in \[object Object\] - 11:11$/);
    expect((err as Error).message).not.toContain('SEKRIT');
  });

  it('are compiled once', () => {
    expect(template('ipsecinit.conf.hbs')).toBe(template('ipsecinit.conf.hbs'));
  });
});
