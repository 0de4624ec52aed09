#!/usr/bin/env python3
"""Top self-time functions of a V8 .cpuprofile (node --cpu-prof), and the
time under each of our source files (inclusive of callees outside src/).

    python3 bench/profile-top.py PROFILE.cpuprofile [N]
"""
import collections
import json
import sys

prof = json.load(open(sys.argv[1]))
n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
nodes = {x["id"]: x for x in prof["nodes"]}
dt = collections.Counter()
for sid, d in zip(prof["samples"], prof["timeDeltas"]):
    dt[sid] += d
self_time = collections.Counter()
for nid, us in dt.items():
    cf = nodes[nid]["callFrame"]
    url = cf["url"].split("/dist/")[-1] if "/dist/" in cf["url"] else cf["url"].split("/")[-1]
    self_time[f'{cf["functionName"] or "(anonymous)"} {url}:{cf["lineNumber"] + 1}'] += us
total = sum(dt.values())
print(f"total sampled {total / 1e6:.2f} s")
for k, us in self_time.most_common(n):
    print(f"{us / 1e6:8.2f} s {100 * us / total:5.1f}%  {k}")
