/** A Plan as text for a terminal, node by node (never the content of secret files). Pure. */
import type { FilePlan, NodePlan, Plan } from './plan.js';
import { countsText, planCounts } from './counts.js';

function mode(m: number | undefined): string {
  return m === undefined ? '?' : `0${m.toString(8)}`;
}

function fileLine(f: FilePlan): string[] {
  const sign = f.action === 'add' ? '+' : f.action === 'remove' ? '-' : '~';
  const what =
    f.action === 'add'
      ? `new, mode ${mode(f.mode)}`
      : f.leftover
        ? 'staged by an interrupted run, never committed'
        : f.action === 'remove'
        ? 'no longer wanted (we created it)'
        : [f.contentChanged ? 'content' : '', f.oldMode !== f.mode ? `mode ${mode(f.oldMode)} → ${mode(f.mode)}` : '']
            .filter((s) => s !== '')
            .join(', ');
  const lines = [`  ${sign} ${f.path}  (${what}; refresh ${f.refresh ?? 'nothing'})`];
  if (f.leftover) return lines;
  if (f.secret && f.contentChanged) lines.push('      (secret: content not shown)');
  else for (const d of f.diff) lines.push(`      ${d}`);
  return lines;
}

export function renderNodePlan(n: NodePlan): string {
  const out: string[] = [];
  const pending = n.overlays.filter((o) => o.action === 'pending');
  if (!n.changed) {
    out.push(`${n.node}: no changes${pending.length > 0 ? ' (changes pending a reboot)' : ''}`);
  } else {
    // The numbers apply's report gives for the same run (src/plan/counts.ts).
    out.push(`${n.node}: ${countsText(planCounts(n))}`);
  }
  for (const f of n.files) out.push(...fileLine(f));
  for (const c of n.usbkey) {
    if (c.action === 'add') out.push(`  + /usbkey/config ${c.key}="${c.new}"`);
    else if (c.action === 'remove') out.push(`  - /usbkey/config ${c.key}="${c.old}"`);
    else out.push(`  ~ /usbkey/config ${c.key}: "${c.old}" → "${c.new}"`);
  }
  for (const o of n.overlays) {
    if (o.action === 'create') out.push(`  + overlay ${o.link} (dladm create-overlay, rule ${o.rule}, vni ${o.vni})`);
  }
  if (n.changed && n.services.length > 0) out.push(`  refresh: ${n.services.join(', ')}`);
  for (const r of n.reboot) out.push(`  takes effect at reboot: ${r}`);
  for (const d of n.disruptive) out.push(`  DISRUPTIVE: ${d}`);
  for (const w of n.warnings) out.push(`  warning: ${w}`);
  return out.join('\n');
}

export function renderPlan(plan: Plan): string {
  const changed = plan.nodes.filter((n) => n.changed).length;
  const body = plan.nodes.map(renderNodePlan).join('\n');
  return `${body}\n\n${changed === 0 ? 'No changes: every node matches the desired state.' : `${changed} of ${plan.nodes.length} node(s) to change.`}`;
}

/**
 * One line per node (`plan --summary`): files to write (added, changed,
 * /usbkey/config with its lines), to remove, overlays to create, refreshes,
 * and what waits for a reboot or disrupts traffic; the first four are the
 * numbers apply reports (src/plan/counts.ts).
 */
export function renderPlanSummary(plan: Plan): string {
  const lines = plan.nodes.map((n) => {
    if (!n.changed) return `${n.node}: no changes${n.overlays.some((o) => o.action === 'pending') ? ' (changes pending a reboot)' : ''}`;
    const by = (a: FilePlan['action']): number => n.files.filter((f) => f.action === a).length;
    const c = planCounts(n);
    const parts = [
      `write ${c.filesWritten} (files +${by('add')} ~${by('change')}${n.usbkey.length > 0 ? `, /usbkey/config ${n.usbkey.length} line(s)` : ''})`,
      `remove ${c.filesRemoved}`,
      `overlays +${c.overlaysCreated}`,
      `refresh ${c.servicesRefreshed}: ${n.services.join(',') || '-'}`,
    ];
    if (n.reboot.length > 0) parts.push(`${n.reboot.length} at reboot`);
    if (n.disruptive.length > 0) parts.push(`${n.disruptive.length} DISRUPTIVE`);
    return `${n.node}: ${parts.join('; ')}`;
  });
  const changed = plan.nodes.filter((n) => n.changed).length;
  lines.push('', changed === 0 ? 'No changes: every node matches the desired state.' : `${changed} of ${plan.nodes.length} node(s) to change.`);
  return lines.join('\n');
}

/** The plan for --json: everything but file contents (FilePlan never holds them). */
export function planJson(plan: Plan): unknown {
  return { nodes: plan.nodes.map((n) => ({ ...n, counts: planCounts(n) })), changed: plan.nodes.filter((n) => n.changed).map((n) => n.node) };
}
