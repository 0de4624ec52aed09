/**
 * The MTU lab's reference table (test/fixtures/mtu-table.md, docs/mtu.md#values), read for the tests that
 * check the code against it (overhead.test.ts) and the lab's cases against it (lab-check.test.ts).
 */
import { readFileSync } from 'node:fs';
import type { EspChoice } from '../../src/mtu/overhead.js';

/** One row of the table, both VLAN columns. */
export interface MtuTableRow {
  U: number;
  ipVersion: 4 | 6;
  esp: EspChoice;
  natT: boolean;
  noVlan: number;
  vlan: number;
}

export function readMtuTable(): MtuTableRow[] {
  const text = readFileSync(new URL('../fixtures/mtu-table.md', import.meta.url), 'utf8');
  const rows: MtuTableRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim()).filter((c) => c !== '');
    if (cells.length !== 6 || !/^\d+$/.test(cells[0]!)) continue;
    rows.push({
      U: Number(cells[0]),
      ipVersion: cells[1] === 'IPv6' ? 6 : 4,
      esp: cells[2] as EspChoice,
      natT: cells[3] === 'yes',
      noVlan: Number(cells[4]),
      vlan: Number(cells[5]),
    });
  }
  return rows;
}
