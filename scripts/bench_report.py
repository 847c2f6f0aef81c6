#!/usr/bin/env python3
"""Tables of the criterion results in target/criterion, with ratios from the same run.

Usage: scripts/bench_report.py [TARGET_DIR]        (default: <repo>/target)

For every benchmark group (decode/…, encode/…, unmask/…, utf8/…, header_*/…) prints each
implementation's median time, its rate (messages/s and payload GB/s, or GB/s), and its speed
relative to the group's reference: tungstenite where measured, memcpy for unmasking.
Markdown, so it pastes into docs/performance.md.
"""
import json
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "target")
crit = os.path.join(target, "criterion")

meta = {}
try:
    with open(os.path.join(crit, "bench-meta.tsv")) as f:
        for line in f:
            gid, msgs, wire, payload = line.rstrip("\n").split("\t")
            meta[gid] = (int(msgs), int(wire), int(payload))
except FileNotFoundError:
    pass

groups = {}
for dirpath, dirnames, filenames in os.walk(crit):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in filenames:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        bench = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        est = json.load(f)
    groups.setdefault(bench["group_id"], {})[bench["function_id"]] = est["median"]["point_estimate"]


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def rate(gid, ns):
    msgs, wire, payload = meta.get(gid, (0, 0, 0))
    parts = []
    if gid.startswith(("decode/", "encode/", "header_")) and msgs:
        parts.append(f"{msgs / ns * 1e3:.2f} M msg/s")
    if payload:
        parts.append(f"{payload / ns:.2f} GB/s")
    return ", ".join(parts)


order = ["unmask/", "utf8/", "header_decode/", "header_encode/", "decode/", "encode/"]
ordered = sorted(groups, key=lambda g: (next((i for i, p in enumerate(order) if g.startswith(p)), 99), g))
current = None
for gid in ordered:
    family = gid.split("/")[0]
    if family != current:
        current = family
        ref_name = "memcpy" if family == "unmask" else "tungstenite"
        print(f"\n### {family}\n")
        print(f"| benchmark | implementation | median | rate | speed vs {ref_name} |")
        print("| --- | --- | ---: | --- | ---: |")
    funcs = groups[gid]
    ref = funcs.get("memcpy" if family == "unmask" else "tungstenite")
    for name in sorted(funcs, key=lambda n: (n != "rfc6455" and not n.startswith("rfc6455"), n)):
        ns = funcs[name]
        ratio = f"{ref / ns:.2f}×" if ref else ""
        print(f"| {gid.split('/', 1)[1]} | {name} | {fmt_time(ns)} | {rate(gid, ns)} | {ratio} |")
