/**
 * Pure edits of the rules in a state document, with Danube's semantics
 * (docs/operations.md#commands): `create` refuses an existing rule and
 * names the `update` to run; ports are unique across rules and the
 * adminoverlay; node lists name known nodes. Each function returns a new
 * document and never touches the one it was given.
 */
import { ConflictError, EsdcError, ValidationError, type ValidationIssue } from '../errors.js';
import type { Model } from '../model/model.js';
import { HOSTNAME, matches } from '../syntax/patterns.js';
import type { RuleDoc, StateDoc } from '../model/state.js';
import { quoteArgv } from '../shell/quote.js';
import { nextFreePort } from '../syntax/ports.js';
import { ADMIN_OVERLAY_RULE, newRuleNameIssue } from '../syntax/rule-name.js';
import { defaultFilesConfig, filesConfigProblem, parseRuleString, RULE_DEFAULTS, type RuleParams } from '../syntax/rule-string.js';
import { own } from '../model/own.js';
import { closestNames, unknownNameError } from '../model/suggest.js';

/** The rules an operator may name in create/update/delete (not the adminoverlay, which has its own commands). */
function ruleNames(model: Model): string[] {
  return model.rules.map((r) => r.name).filter((n) => n !== ADMIN_OVERLAY_RULE);
}

/** Rule parameters given as options (`--port` ...) rather than as a raw string. */
export interface RuleOptions {
  port?: number;
  mtu?: number;
  listenIp?: string;
  filesConfig?: string;
}

export interface RuleChangeRequest {
  name: string;
  /** `all`, a comma-separated list, or undefined to keep (update) / default to all (create). */
  nodes?: string;
  /** A raw dladm parameter string. */
  raw?: string;
  options?: RuleOptions;
}

/** Danube's node list: `all`, or names separated by commas; blanks and stray commas ignored. */
export function parseNodeList(text: string, path = 'nodes'): { nodes: 'all' | string[]; issues: ValidationIssue[] } {
  const trimmed = text.replace(/\s+/g, '').replace(/^,+|,+$/g, '');
  if (trimmed === 'all') return { nodes: 'all', issues: [] };
  const names = trimmed === '' ? [] : trimmed.split(/,+/);
  const issues: ValidationIssue[] = [];
  if (names.length === 0) issues.push({ path, value: text, message: 'must be "all" or a comma-separated list of hostnames' });
  names.forEach((n, i) => {
    if (!matches(HOSTNAME, n)) issues.push({ path: `${path}[${i}]`, value: n, message: 'is not a valid hostname' });
  });
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) issues.push({ path, value: dup, message: 'names a node twice' });
  return { nodes: [...new Set(names)], issues };
}


/** Parameters from the raw string and the options; a raw string excludes the options. */
function requestedParams(req: RuleChangeRequest, issues: ValidationIssue[]): RuleParams {
  const opts = req.options ?? {};
  const hasOpts = Object.values(opts).some((v) => v !== undefined);
  if (req.raw !== undefined) {
    if (hasOpts) issues.push({ path: 'rule', value: req.raw, message: 'give either a raw rule string or --port/--mtu/--listen-ip/--files-config, not both' });
    const parsed = parseRuleString(req.raw, 'rule');
    issues.push(...parsed.issues);
    return parsed.params;
  }
  const params: RuleParams = {};
  if (opts.port !== undefined) {
    if (Number.isInteger(opts.port) && opts.port >= 1 && opts.port <= 65535) params.port = opts.port;
    else issues.push({ path: 'port', value: opts.port, message: 'must be a UDP port 1-65535' });
  }
  if (opts.mtu !== undefined) {
    if (Number.isInteger(opts.mtu) && opts.mtu >= RULE_DEFAULTS.mtuMin && opts.mtu <= RULE_DEFAULTS.mtuMax) params.mtu = opts.mtu;
    else issues.push({ path: 'mtu', value: opts.mtu, message: `must be ${RULE_DEFAULTS.mtuMin}-${RULE_DEFAULTS.mtuMax}` });
  }
  if (opts.listenIp !== undefined) {
    const check = parseRuleString(`-e vxlan -s files -p vxlan/listen_ip=${opts.listenIp}`, 'listen_ip');
    if (check.issues.length > 0) issues.push({ path: 'listen_ip', value: opts.listenIp, message: 'must be an IPv4 address' });
    else params.listenIp = opts.listenIp;
  }
  if (opts.filesConfig !== undefined) {
    const problem = filesConfigProblem(opts.filesConfig);
    if (problem) issues.push({ path: 'files_config', value: opts.filesConfig, message: problem });
    else params.filesConfig = opts.filesConfig;
  }
  return params;
}

/** Ports held by every rule but `except`, with their owners. */
function portOwners(model: Model, except?: string): Map<number, string> {
  const owners = new Map<number, string>();
  for (const r of model.rules) if (r.name !== except && r.port > 0) owners.set(r.port, r.name);
  return owners;
}

/** A copy of the document in which the adminoverlay port no longer floats (see build-model). */
function pinAdminOverlayPort(doc: StateDoc, model: Model): StateDoc {
  if (!doc.adminoverlay || doc.adminoverlay.port !== undefined || !model.adminOverlay) return doc;
  return { ...doc, adminoverlay: { ...doc.adminoverlay, port: model.adminOverlay.port } };
}

function ruleDocFrom(params: RuleParams, nodes: 'all' | string[], base: RuleDoc = {}): RuleDoc {
  // Field form only: the raw string's parameters are all representable, and one form avoids two truths.
  const out: RuleDoc = {};
  const port = params.port ?? base.port;
  if (port !== undefined) out.port = port;
  out.nodes = nodes;
  out.mtu = params.mtu ?? base.mtu ?? RULE_DEFAULTS.mtu;
  const listenIp = params.listenIp ?? base.listen_ip;
  if (listenIp !== undefined && listenIp !== RULE_DEFAULTS.listenIp) out.listen_ip = listenIp;
  const filesConfig = params.filesConfig ?? base.files_config;
  if (filesConfig !== undefined) out.files_config = filesConfig;
  return out;
}

export interface RuleEditResult {
  name: string;
  /** What changed, one phrase per change; empty when nothing did. */
  changes: string[];
}

export function createRule(doc: StateDoc, model: Model, req: RuleChangeRequest): { doc: StateDoc; result: RuleEditResult } {
  const issues: ValidationIssue[] = [];
  const nameIssue = newRuleNameIssue(req.name);
  if (nameIssue) throw new ValidationError([nameIssue], 'create');
  if (own(doc.overlay_rules, req.name) !== undefined) {
    const cmd = quoteArgv(['esdc-overlay', 'update', req.name, ...(req.nodes ? [req.nodes] : []), ...(req.raw ? [req.raw] : [])]);
    throw new ConflictError(`rule ${req.name} exists already; to change it run: ${cmd}`, { code: 'RuleExists' });
  }
  const list = parseNodeList(req.nodes ?? 'all');
  issues.push(...list.issues);
  const params = requestedParams(req, issues);
  if (issues.length > 0) throw new ValidationError(issues, 'create');

  const owners = portOwners(model);
  const port = params.port ?? nextFreePort(owners.keys());
  const owner = owners.get(port);
  if (owner) throw new ConflictError(`port ${port} is already used by rule ${owner}; choose another with --port`, { code: 'PortInUse' });

  const pinned = pinAdminOverlayPort(doc, model);
  const ruleDoc = ruleDocFrom({ ...params, port }, list.nodes);
  const next: StateDoc = { ...pinned, overlay_rules: { ...(pinned.overlay_rules ?? {}), [req.name]: ruleDoc } };
  return { doc: next, result: { name: req.name, changes: [`created with port ${port}`] } };
}

export function updateRule(doc: StateDoc, model: Model, req: RuleChangeRequest): { doc: StateDoc; result: RuleEditResult } {
  if (req.name === ADMIN_OVERLAY_RULE) {
    throw new EsdcError('the adminoverlay is changed with adminoverlay-update, not update', { code: 'UseAdminOverlayUpdate' });
  }
  const current = own(doc.overlay_rules, req.name);
  const rule = model.ruleByName.get(req.name);
  if (current === undefined || !rule) {
    const known = ruleNames(model);
    // A typo must not be answered with "create it": name the close rules first.
    throw unknownNameError('rule', req.name, known, closestNames(req.name, known).length > 0 ? undefined : `create it with: esdc-overlay create ${req.name}`);
  }
  const issues: ValidationIssue[] = [];
  let nodes: 'all' | string[] = current.nodes ?? 'all';
  if (req.nodes !== undefined) {
    const list = parseNodeList(req.nodes);
    issues.push(...list.issues);
    nodes = list.nodes;
  }
  const params = requestedParams(req, issues);
  if (issues.length > 0) throw new ValidationError(issues, 'update');

  const resolvedBase: RuleDoc = { port: rule.port, mtu: rule.mtu, listen_ip: rule.listenIp };
  if (rule.filesConfig !== defaultFilesConfig(req.name)) resolvedBase.files_config = rule.filesConfig;
  if (params.port !== undefined) {
    const owner = portOwners(model, req.name).get(params.port);
    if (owner) throw new ConflictError(`port ${params.port} is already used by rule ${owner}`, { code: 'PortInUse' });
  }
  const next = ruleDocFrom(params, nodes, resolvedBase);
  const changes: string[] = [];
  const before = { port: rule.port, mtu: rule.mtu, listenIp: rule.listenIp, filesConfig: rule.filesConfig };
  const after = {
    port: next.port ?? rule.port,
    mtu: next.mtu ?? rule.mtu,
    listenIp: next.listen_ip ?? RULE_DEFAULTS.listenIp,
    filesConfig: next.files_config ?? rule.filesConfig,
  };
  for (const k of ['port', 'mtu', 'listenIp', 'filesConfig'] as const) {
    if (before[k] !== after[k]) changes.push(`${k} ${String(before[k])} -> ${String(after[k])}`);
  }
  const nodesText = (n: 'all' | readonly string[]): string => (n === 'all' ? 'all' : n.join(','));
  if (nodesText(rule.nodeSelector) !== nodesText(nodes)) {
    changes.push(`nodes ${nodesText(rule.nodeSelector)} -> ${nodesText(nodes)}`);
  }
  if (changes.length === 0) return { doc, result: { name: req.name, changes } };
  const pinned = pinAdminOverlayPort(doc, model);
  return {
    doc: { ...pinned, overlay_rules: { ...(pinned.overlay_rules ?? {}), [req.name]: next } },
    result: { name: req.name, changes },
  };
}

export interface DeleteRuleResult {
  name: string;
  /** Nodes that lose the rule's line and ARP table. */
  nodes: readonly string[];
  /** VM NICs that were on the rule (only with force). */
  vnics: number;
}

export function deleteRule(doc: StateDoc, model: Model, name: string, force: boolean): { doc: StateDoc; result: DeleteRuleResult } {
  if (name === ADMIN_OVERLAY_RULE) {
    throw new EsdcError('the adminoverlay cannot be deleted with delete', { code: 'UseAdminOverlay' });
  }
  const rule = model.ruleByName.get(name);
  if (own(doc.overlay_rules, name) === undefined || !rule) {
    throw unknownNameError('rule', name, ruleNames(model));
  }
  const users = model.vnics.filter((v) => v.rule === name);
  if (users.length > 0 && !force) {
    throw new ConflictError(
      `${users.length} VM NIC${users.length === 1 ? '' : 's'} use rule ${name} (e.g. ${users[0]!.mac} on ${users[0]!.node}); ` +
        'they lose connectivity when it is removed. Move them first, or pass --force',
      { code: 'RuleInUse' },
    );
  }
  const { [name]: _removed, ...rest } = doc.overlay_rules ?? {};
  const next: StateDoc = { ...doc, overlay_rules: rest };
  if (force && users.length > 0) next.vnics = (doc.vnics ?? []).filter((_, i) => !users.some((u) => u.index === i));
  return { doc: next, result: { name, nodes: rule.nodes, vnics: users.length } };
}
