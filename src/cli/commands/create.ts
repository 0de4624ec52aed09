/** `esdc-overlay create <rule> [nodes|all] [raw rule]`: a new overlay rule, Danube's semantics. */
import type { Command } from 'commander';
import { ruleMtu } from '../../mtu/rule-mtu.js';
import type { RuleChangeRequest } from '../../rules/edit.js';
import { canonicalRuleString } from '../../syntax/rule-string.js';
import { createRuleInStore } from '../../operations/create-rule.js';
import { intOption, withCommonOptions } from '../common.js';
import { CliContext, type CliIo } from '../context.js';
import { nextApply, nextSteps } from '../next-steps.js';

export function registerCreate(program: Command, io: CliIo): void {
  withRuleArguments(withCommonOptions(program.command('create')).description('create an overlay rule (port: next free unless given)'), {
    rule: ['<rule>', 'rule name: letters, digits and _, starting and ending with a letter, at most 19 characters'],
    nodes: '"all" (default) or a comma-separated list of hostnames',
    raw: 'dladm parameters, e.g. "-e vxlan -p vxlan/listen_port=4795 -s files -p mtu=1388"',
    port: 'UDP port (default: highest in use + 1, first 4790)',
    mtu: 'overlay MTU (576-8900, the illumos overlay driver\'s range; default 1400, or the safe MTU of the rule\'s paths when that is lower)',
    listenIp: 'IP the node accepts VXLAN on (default 0.0.0.0: all)',
    filesConfig: 'ARP table path on the node (default /opt/custom/networking/<rule>_overlay.json)',
  })
    .addHelpText('after', '\nExamples:\n  esdc-overlay create customers\n  esdc-overlay create lab cn01,cn03 --mtu 1388\n')
    .action(async (name: string, nodes: string | undefined, raw: string | undefined, opts: Record<string, unknown>, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      const mtuGiven = pick(opts).mtu !== undefined || /(^|[\s,])mtu=/.test(raw ?? '');
      const { result: { created, lowered }, snapshot, warnings } = await createRuleInStore(ctx.store(), ruleRequest(name, nodes, raw, opts), mtuGiven);
      const rule = snapshot.model.ruleByName.get(created.name)!;
      ctx.log.info({ rule: rule.name, port: rule.port }, 'rule created');
      ctx.warn(warnings);
      const safe = ruleMtu(snapshot.model, rule);
      if (lowered !== undefined && !ctx.json) {
        ctx.io.stderr.write(
          `mtu: stored ${lowered.to}, the safe MTU of ${rule.name}'s paths (limited by ${safe!.limiting!.pair[0]} - ${safe!.limiting!.pair[1]}); ` +
            `the default ${lowered.from} does not fit. Give --mtu to choose another\n`,
        );
      } else if (!mtuGiven && safe.safe !== undefined && !ctx.json) {
        const l = safe.limiting!;
        // A new rule has no NICs yet; most carry a VLAN tag later, which costs 4 more bytes.
        const tagged = safe.vlan ? undefined : ruleMtu(snapshot.model, rule, new Set([rule.name])).safe;
        const withTag = tagged !== undefined ? ` (${tagged} once its NICs carry VLAN tags)` : '';
        ctx.io.stderr.write(
          safe.ok
            ? `hint: the safe MTU of ${rule.name} is ${safe.safe}${withTag}, limited by the path ${l.pair[0]} - ${l.pair[1]}; ${rule.mtu} fits\n`
            : `hint: the safe MTU of ${rule.name} is ${safe.safe}${withTag}, limited by the path ${l.pair[0]} - ${l.pair[1]}; the stored ${rule.mtu} is too big, ` +
                `set it with: esdc-overlay update ${rule.name} --mtu ${safe.safe}\n`,
        );
      }
      ctx.output(
        () => `created rule ${rule.name}: port ${rule.port}, mtu ${rule.mtu}, nodes ${rule.nodes.length} (${rule.nodeSelector === 'all' ? 'all' : rule.nodeSelector.join(',')})\n` +
          `overlay_rule_${rule.name}="${canonicalRuleString(rule)}"\n` +
          nextSteps(ctx.opts, true, rule.nodeSelector === 'all' ? 'all' : rule.nodes).join('\n'),
        () => ({
          created: { name: rule.name, port: rule.port, mtu: rule.mtu, nodes: rule.nodeSelector, rule: canonicalRuleString(rule) },
          ...(safe.safe !== undefined ? { safe_mtu: safe.safe } : {}),
          ...(lowered !== undefined ? { mtu_lowered_from: lowered.from } : {}),
          next: nextApply(ctx.opts),
        }),
      );
    });
}

/** How create and update word the help of the arguments and options they share. */
export interface RuleArgumentHelp {
  /** `<rule>` (required) or `[rule]`, and its help. */
  rule: [string, string];
  nodes: string;
  raw: string;
  port: string;
  mtu: string;
  listenIp: string;
  filesConfig: string;
}

/** The arguments and options of a rule change (create, update); `ruleRequest` reads what they give. */
export function withRuleArguments(cmd: Command, help: RuleArgumentHelp): Command {
  return cmd
    .argument(help.rule[0], help.rule[1])
    .argument('[nodes]', help.nodes)
    .argument('[raw-rule]', help.raw)
    .option('--port <port>', help.port, intOption('--port'))
    .option('--mtu <mtu>', help.mtu, intOption('--mtu'))
    .option('--listen-ip <ip>', help.listenIp)
    .option('--files-config <path>', help.filesConfig);
}

/** A rule change as create and update receive it: positional arguments and options. */
export function ruleRequest(name: string, nodes: string | undefined, raw: string | undefined, opts: Record<string, unknown>): RuleChangeRequest {
  return { name, ...(nodes !== undefined ? { nodes } : {}), ...(raw !== undefined ? { raw } : {}), options: pick(opts) };
}

/** The rule options a command received, without undefined entries. */
export function pick(opts: Record<string, unknown>): { port?: number; mtu?: number; listenIp?: string; filesConfig?: string } {
  const out: { port?: number; mtu?: number; listenIp?: string; filesConfig?: string } = {};
  if (typeof opts.port === 'number') out.port = opts.port;
  if (typeof opts.mtu === 'number') out.mtu = opts.mtu;
  if (typeof opts.listenIp === 'string') out.listenIp = opts.listenIp;
  if (typeof opts.filesConfig === 'string') out.filesConfig = opts.filesConfig;
  return out;
}
