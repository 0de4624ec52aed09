/** A Plan as text for a terminal, node by node (never the content of secret files). Pure. */
import type { FilePlan, NodePlan, Plan } from './plan.js';

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
    const count = n.files.length + n.usbkey.length + n.overlays.filter((o) => o.action === 'create').length;
    out.push(`${n.node}: ${count} change(s)`);
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
 * One line per node (`plan --summary`): files added, changed and removed,
 * /usbkey/config lines, overlays to create, refreshes, and what waits for a
 * reboot or disrupts traffic, counted as apply counts them: one /usbkey/config
 * write however many of its lines change.
 */
export function renderPlanSummary(plan: Plan): string {
  const lines = plan.nodes.map((n) => {
    if (!n.changed) return `${n.node}: no changes${n.overlays.some((o) => o.action === 'pending') ? ' (changes pending a reboot)' : ''}`;
    const by = (a: FilePlan['action']): number => n.files.filter((f) => f.action === a).length;
    const parts = [
      `files +${by('add')} ~${by('change')} -${by('remove')}`,
      `/usbkey/config ${n.usbkey.length} line(s)`,
      `overlays +${n.overlays.filter((o) => o.action === 'create').length}`,
      `refresh ${n.services.join(',') || '-'}`,
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
  return { nodes: plan.nodes, changed: plan.nodes.filter((n) => n.changed).map((n) => n.node) };
}
