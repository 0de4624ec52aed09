#!/usr/bin/env python3
"""Baseline for bench/render: the ARP tables the way Danube's management
server builds them today (docs/file-formats.md#arp-table): for each node, for each
overlay rule the node has, a dict of the rule's VM NICs on the *other* nodes of
that rule, each {arp, ip, [ndp], port}, serialised with json.dumps(indent=2)
and written to DIR/<node>/opt/custom/networking/<rule>_overlay.json.

It is given the same advantages our render has: the state is one file
(JSON, or YAML read with PyYAML's C loader, CBaseLoader: every scalar a
string, the cheapest load; the one number used, the port, is converted) read once (Danube queries its database per node), and NICs are grouped by rule
once up front. Entries are inserted in MAC order and keys in our order (arp,
ip, ndp, port) so its output can be compared byte for byte with our render's
(`--check DIR`); that costs one sort per rule, which is charged to it.

    python3 bench/render/baseline.py STATE.json|STATE.yaml OUT_DIR
"""
import ipaddress
import json
import os
import sys
import time


def main():
    state_path, out = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    with open(state_path) as f:
        if state_path.endswith(".json"):
            state = json.load(f)
        else:
            import yaml  # PyYAML; libyaml's C loader
            state = yaml.load(f, Loader=yaml.CBaseLoader)
    nodes = state["nodes"]
    names = sorted(nodes)
    rules = state.get("overlay_rules", {})
    members = {}
    for rname, r in rules.items():
        members[rname] = set(names) if r.get("nodes") == "all" else set(r["nodes"])
    by_rule = {rname: [] for rname in rules}
    for v in state.get("vnics", []):
        rname = v["nic_tag"].split("/")[0]
        if rname in by_rule and v["node"] in members[rname]:
            by_rule[rname].append(v)
    for lst in by_rule.values():
        lst.sort(key=lambda v: v["mac"].lower())
    t1 = time.perf_counter()

    def overlay_ip(rule, viewer, owner):
        listen = rule.get("listen_ip")
        if listen and listen != "0.0.0.0":
            return listen
        o = nodes[owner]
        if nodes[viewer]["pdc"] != o["pdc"]:
            return o.get("external_ip") or o["admin_ip"]
        return o["admin_ip"]

    files = 0
    written = 0
    for name in names:
        for rname in sorted(rules):
            if name not in members[rname]:
                continue
            rule = rules[rname]
            port = int(rule.get("port", 4789))
            table = {}
            for v in by_rule[rname]:
                if v["node"] == name:
                    continue
                entry = {"arp": v["ip"], "ip": overlay_ip(rule, name, v["node"])}
                if v.get("ip6"):
                    entry["ndp"] = str(ipaddress.IPv6Address(v["ip6"].split("/")[0]))
                entry["port"] = port
                table[v["mac"].lower()] = entry
            text = json.dumps(table, indent=2) + "\n"
            d = os.path.join(out, name, "opt", "custom", "networking")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, rname + "_overlay.json"), "w") as f:
                written += f.write(text)
            files += 1
    t2 = time.perf_counter()
    print(json.dumps({"files": files, "bytes": written, "loadMs": round((t1 - t0) * 1000), "writeMs": round((t2 - t1) * 1000)}))


if __name__ == "__main__":
    main()
