#!/usr/bin/env python3
"""Markdown tables from the raw results of scripts/bench_async.sh and scripts/bench_large.sh.

Usage: scripts/bench_load_report.py async|large RESULTS.jsonl

Each line of RESULTS is one run of the load generator (bench/loadtools: loadtest) with the
workload, the server and the repeat added, or a memory measurement, or the run's metadata.
Messages/s are medians over the repeats; ratios are between medians of the same run.
"""
import json
import statistics
import sys

kind, path = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(path) if line.strip()]
meta = next((r for r in rows if r.get("meta")), {})
runs = [r for r in rows if "workload" in r]
idle = [r for r in rows if r.get("idle")]
peaks = [r for r in rows if r.get("peak")]

LABELS = {
    "100x20B": "100 × 20 B",
    "10x1KiB": "10 × 1 KiB",
    "10x16KiB": "10 × 16 KiB",
    "200x16KiB": "200 × 16 KiB",
    "500x16KiB": "500 × 16 KiB",
    "10x1KiB_text": "10 × 1 KiB, text",
    "100x20B_8_in_flight": "100 × 20 B, 8 in flight each",
    "64KiB_ping_pong": "64 KiB ping-pong (1 connection)",
    "1MiB_ping_pong": "1 MiB ping-pong",
    "16MiB_ping_pong": "16 MiB ping-pong",
}
NAMES = {
    "rfc6455-async": "rfc6455 async_echo_server",
    "tokio-websockets": "tokio-websockets 0.13",
    "fastwebsockets": "fastwebsockets 0.10",
    "tokio-tungstenite": "tokio-tungstenite 0.30",
    "rfc6455-blocking": "rfc6455 echo_server (blocking)",
    "rfc6455": "rfc6455 echo_server",
    "rfc6455-stream": "rfc6455 echo_server --stream",
    "tungstenite": "tungstenite 0.30 (blocking)",
    "tcp": "bare TCP echo",
}
ANCHORS = ["tokio-websockets", "fastwebsockets", "tokio-tungstenite"]

workloads = list(dict.fromkeys(r["workload"] for r in runs))
servers = list(dict.fromkeys(r["server"] for r in runs))
cell = {}
for r in runs:
    cell.setdefault((r["workload"], r["server"]), []).append(r)


def summary(w, s):
    """(median msg/s, min, max, median p50 µs, median p99 µs, MB/s, max load-generator CPU share,
    median server CPU µs per echo, median server CPU share) or a string saying why not."""
    rs = cell.get((w, s), [])
    if not rs:
        return "not run"
    if all(r.get("unavailable") for r in rs):
        return "NOT AVAILABLE"
    errors = [r for r in rs if "error" in r]
    good = [r for r in rs if "msgs_per_s" in r]
    if errors:
        return "ERROR: " + errors[0]["error"][:60]
    rates = [r["msgs_per_s"] for r in good]
    return (
        statistics.median(rates),
        min(rates),
        max(rates),
        statistics.median(r["p50_us"] for r in good),
        statistics.median(r["p99_us"] for r in good),
        statistics.median(r["mb_per_s"] for r in good),
        max(r.get("load_cpu", 0) for r in good),
        statistics.median(r.get("server_cpu_s", 0) / max(r.get("echoes_total", 1), 1) * 1e6 for r in good),
        statistics.median(r.get("server_cpu_s", 0) / max(r.get("elapsed_s", 1), 1e-9) for r in good),
    )


# A load generator using this share of its core or more may be what limits the rate.
LOAD_BOUND = 0.85


def rate(v):
    if not isinstance(v, tuple):
        return f"**{v}**"
    return f"{v[0]:,.0f}" + (" †" if v[6] >= LOAD_BOUND else "")


def cost(v):
    if not isinstance(v, tuple):
        return f"**{v}**"
    return f"{v[7]:.2f}" if v[7] > 0 else "n/a"


def saving(a, b):
    """How many times less CPU a spends per echo than b (b's µs ÷ a's µs)."""
    if isinstance(a, tuple) and isinstance(b, tuple) and a[7] > 0:
        return f"{b[7] / a[7]:.2f}×"
    return "n/a"


def ratio(a, b):
    if isinstance(a, tuple) and isinstance(b, tuple) and b[0] > 0:
        return f"{a[0] / b[0]:.2f}×"
    return "n/a"


def header():
    m = meta
    print(
        f"Measured {m.get('date', '?')} on commit {m.get('commit', '?')}: {m.get('repeats', '?')} repeats of "
        f"{m.get('seconds', '?')} s counted after {m.get('warmup', '?')} s of warm-up; load average at the start "
        f"{m.get('load', '?')}; scheduling {m.get('sched', '?')}. Medians of the repeats."
    )
    ab = m.get("async_bin", "")
    if ab and not ab.endswith("target/release/examples/async_echo_server") and not m.get("async_missing"):
        print(f"\nasync_echo_server: the prebuilt {ab}.")
    if m.get("async_missing"):
        print(f"\n**rfc6455 async_echo_server NOT AVAILABLE in this run: {m['async_missing']}.**")
    print()


def async_report():
    header()
    cols = [s for s in ["rfc6455-async", *ANCHORS, "rfc6455-blocking"] if s in servers]
    print("#### Messages per second (median)\n")
    print(
        "| workload | "
        + " | ".join(NAMES[s] for s in cols)
        + " | async ÷ fastest anchor | async ÷ tokio-tungstenite | blocking ÷ fastest anchor |"
    )
    print("| --- |" + " ---: |" * (len(cols) + 3))
    for w in workloads:
        sums = {s: summary(w, s) for s in cols}
        anchors = [sums[s] for s in ANCHORS if isinstance(sums.get(s), tuple)]
        fastest = max(anchors, key=lambda v: v[0]) if anchors else None
        fastest_name = next((s for s in ANCHORS if sums.get(s) is fastest), None)
        a, b = sums.get("rfc6455-async"), sums.get("rfc6455-blocking")
        fa = ratio(a, fastest) + (f" ({fastest_name})" if fastest_name and isinstance(a, tuple) else "")
        print(
            f"| {LABELS.get(w, w)} | "
            + " | ".join(rate(sums[s]) for s in cols)
            + f" | {fa} | {ratio(a, sums.get('tokio-tungstenite'))} | {ratio(b, fastest)} |"
        )
    print(
        f"\n† the load generator used {LOAD_BOUND:.0%} or more of its core in that run: the rate may be the "
        "generator's limit, not the server's; the server's CPU per echo below still compares them."
    )
    print("\n#### Server CPU time per echo (µs, median; lower is better)\n")
    print(
        "| workload | "
        + " | ".join(NAMES[s] for s in cols)
        + " | fastest anchor ÷ async | tokio-tungstenite ÷ async | fastest anchor ÷ blocking |"
    )
    print("| --- |" + " ---: |" * (len(cols) + 3))
    for w in workloads:
        sums = {s: summary(w, s) for s in cols}
        anchors = [sums[s] for s in ANCHORS if isinstance(sums.get(s), tuple)]
        best = min(anchors, key=lambda v: v[7]) if anchors else None
        a, b = sums.get("rfc6455-async"), sums.get("rfc6455-blocking")
        print(
            f"| {LABELS.get(w, w)} | "
            + " | ".join(cost(sums[s]) for s in cols)
            + f" | {saving(a, best)} | {saving(a, sums.get('tokio-tungstenite'))} | {saving(b, best)} |"
        )
    spread_and_latency(cols)
    if idle:
        print("\n#### Memory of idle connections (one 20 B echo each, then held open)\n")
        print("| server | connections | RSS before | RSS after | per connection | threads |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for r in idle:
            name = NAMES.get(r["server"], r["server"])
            if r.get("unavailable"):
                print(f"| {name} | **NOT AVAILABLE** | | | | |")
            elif "error" in r:
                print(f"| {name} | **ERROR: {r['error'][:60]}** | | | | |")
            else:
                per = (r["rss_after_kib"] - r["rss_before_kib"]) / r["connections"]
                print(
                    f"| {name} | {r['connections']:,} | {r['rss_before_kib'] / 1024:,.1f} MiB | "
                    f"{r['rss_after_kib'] / 1024:,.1f} MiB | {per:.1f} KiB | {r['threads']:,} |"
                )


def spread_and_latency(cols):
    print(
        "\n#### Spread and latency (msg/s min–max over the repeats; round-trip p50 / p99 in µs, medians; "
        "server CPU share)\n"
    )
    print("| workload | " + " | ".join(NAMES[s] for s in cols) + " | load generator CPU (max) |")
    print("| --- |" + " --- |" * len(cols) + " ---: |")
    for w in workloads:
        out = []
        for s in cols:
            v = summary(w, s)
            out.append(
                f"{v[1]:,.0f}–{v[2]:,.0f}; {v[3]:,.0f} / {v[4]:,.0f}; {v[8]:.2f}" if isinstance(v, tuple) else f"**{v}**"
            )
        cpu = max((r.get("load_cpu", 0) for r in runs if r["workload"] == w), default=0)
        print(f"| {LABELS.get(w, w)} | " + " | ".join(out) + f" | {cpu:.2f} |")


def large_report():
    header()
    cols = [s for s in ["rfc6455", "rfc6455-stream", "rfc6455-async", "tungstenite", "tcp"] if s in servers]
    print(
        "| workload | server | msg/s | MB/s each way | p50 µs | p99 µs | ÷ tungstenite | ÷ bare TCP "
        "| server CPU µs per echo | load CPU |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in workloads:
        sums = {s: summary(w, s) for s in cols}
        for s in cols:
            v = sums[s]
            if v == "not run" and s == "rfc6455-stream":
                continue  # measured on the large messages only
            if not isinstance(v, tuple):
                print(f"| {LABELS.get(w, w)} | {NAMES.get(s, s)} | **{v}** | | | | | | | |")
                continue
            print(
                f"| {LABELS.get(w, w)} | {NAMES.get(s, s)} | {v[0]:,.0f} | {v[5]:,.1f} | {v[3]:,.0f} | {v[4]:,.0f} | "
                f"{ratio(v, sums.get('tungstenite'))} | {ratio(v, sums.get('tcp'))} | {v[7]:,.1f} | {v[6]:.2f} |"
            )
    if peaks:
        print("\n#### Peak memory during a 16 MiB echo (fresh server process; VmHWM)\n")
        print("| server | RSS before | peak RSS | peak ÷ message | (peak − before) ÷ message |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for r in peaks:
            name = NAMES.get(r["server"], r["server"])
            if "error" in r or r.get("unavailable"):
                print(f"| {name} | **{r.get('error', 'NOT AVAILABLE')[:60]}** | | | |")
                continue
            msg = r["size"] / 1024
            print(
                f"| {name} | {r['rss_before_kib'] / 1024:,.1f} MiB | {r['hwm_kib'] / 1024:,.1f} MiB | "
                f"{r['hwm_kib'] / msg:.2f}× | {(r['hwm_kib'] - r['rss_before_kib']) / msg:.2f}× |"
            )


if kind == "async":
    async_report()
elif kind == "large":
    large_report()
else:
    sys.exit(f"unknown kind {kind!r}: async or large")
