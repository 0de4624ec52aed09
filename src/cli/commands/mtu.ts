/**
 * `esdc-overlay mtu`: the MTU calculator (`--underlay-mtu U ...`) and the
 * per-rule report (the state's rules against their paths), docs/mtu.md.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { EXIT, OutcomeReported, UsageError } from '../../errors.js';
import { ESP_CHOICES, innerMtu, type EspChoice } from '../../mtu/overhead.js';
import { mtuReport, type RuleMtu } from '../../mtu/rule-mtu.js';
import { withCommonOptions } from '../common.js';
import { underlayMtuOption } from '../underlay-mtu-option.js';
import { CliContext, type CliIo } from '../context.js';
import { table } from '../table.js';

interface MtuOptions {
  underlayMtu?: number;
  ipv6?: boolean;
  vlan?: boolean;
  esp?: EspChoice;
  natT?: boolean;
  exitCode?: boolean;
}

function espOption(value: string): EspChoice {
  if (!(ESP_CHOICES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`--esp must be one of ${ESP_CHOICES.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as EspChoice;
}

export function registerMtu(program: Command, io: CliIo): void {
  withCommonOptions(program.command('mtu'))
    .description('largest safe overlay MTU: for one underlay (--underlay-mtu), or per rule of the state')
    .addOption(underlayMtuOption('calculator: the underlay link MTU'))
    .option('--ipv6', 'calculator: IPv6 underlay (default IPv4)')
    .option('--vlan', 'calculator: the overlay frames carry an 802.1Q tag')
    .option('--esp <suite>', `calculator: ESP transport mode suite: ${ESP_CHOICES.join(', ')} (default none)`, espOption)
    .option('--nat-t', 'calculator: ESP inside UDP 4500 (NAT traversal)')
    .option('--exit-code', 'report: exit 2 when a rule\'s MTU is above its safe value (for CI checks of a state)')
    .addHelpText(
      'after',
      '\nExamples:\n  esdc-overlay mtu --underlay-mtu 1500 --vlan --esp aes-cbc-sha512\n  esdc-overlay mtu --state state.yaml --json\n  esdc-overlay mtu --state state.yaml --exit-code   # exit 2 if a rule is too big\n',
    )
    .action(async (opts: MtuOptions, cmd: Command) => {
      const ctx = CliContext.fromCommand(io, cmd);
      if (opts.underlayMtu !== undefined) {
        if (opts.exitCode) throw new UsageError('--exit-code is for the per-rule report; the calculator has no verdict');
        calculator(ctx, opts);
        return;
      }
      if (opts.ipv6 || opts.vlan || opts.esp !== undefined || opts.natT) {
        throw new UsageError('--ipv6, --vlan, --esp and --nat-t need --underlay-mtu');
      }
      const snap = await ctx.loadAndWarn();
      const rules = mtuReport(snap.model);
      report(ctx, rules);
      const tooBig = rules.filter((r) => !r.ok).map((r) => r.rule);
      if (opts.exitCode && tooBig.length > 0) {
        throw new OutcomeReported(`MTU above the safe value: ${tooBig.join(', ')}`, { code: 'MtuTooBig', exitStatus: EXIT.drift });
      }
    });
}

function calculator(ctx: CliContext, opts: MtuOptions): void {
  const result = innerMtu({
    underlayMtu: opts.underlayMtu!,
    ipVersion: opts.ipv6 ? 6 : 4,
    vlan: opts.vlan === true,
    esp: opts.esp ?? 'none',
    natT: opts.natT === true,
  });
  ctx.output(
    () => String(result.inner_mtu),
    () => result,
  );
}

function report(ctx: CliContext, rules: readonly RuleMtu[]): void {
  ctx.output(
    () =>
      rules.length === 0
        ? 'no overlay rules'
        : table(
            ['RULE', 'MTU', 'SAFE', 'LIMITING PAIR', 'PATH', 'STATUS'],
            rules.map((r) => [
              r.rule,
              String(r.configured),
              r.safe === undefined ? '-' : String(r.safe),
              r.limiting ? r.limiting.pair.join(' - ') : '-',
              r.limiting ? pathText(r) : '-',
              r.ok ? 'ok' : 'too big',
            ]),
          ),
    () => ({
      rules: Object.fromEntries(
        rules.map((r) => [
          r.rule,
          {
            configured: r.configured,
            safe: r.safe ?? null,
            limiting_pair: r.limiting ? [...r.limiting.pair] : null,
            ok: r.ok,
            path: r.limiting
              ? {
                  kind: r.limiting.kind,
                  underlay_mtu: r.limiting.spec.underlayMtu,
                  ip_version: r.limiting.spec.ipVersion,
                  esp: r.limiting.spec.esp,
                  vlan: r.limiting.spec.vlan,
                }
              : null,
          },
        ]),
      ),
    }),
  );
}

function pathText(r: RuleMtu): string {
  const l = r.limiting!;
  const parts = [`${l.kind} ${l.spec.underlayMtu}`, l.spec.esp === 'none' ? 'no ESP' : `ESP ${l.spec.esp}`];
  if (l.spec.ipVersion === 6) parts.push('IPv6');
  if (l.spec.vlan) parts.push('VLAN');
  return parts.join(', ');
}
