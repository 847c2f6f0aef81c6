#!/usr/bin/env python3
"""Summarise Autobahn|Testsuite reports (index.json) for the rfc6455 crate.

Usage:
    autobahn_summary.py [--expected FILE] ROLE=PATH/index.json [ROLE=PATH ...]

ROLE is a label such as "server" (reports of `wstest -m fuzzingclient`) or
"client" (reports of `wstest -m fuzzingserver`).  FILE lists the case ids
that were requested (one per line); any of them absent from a role's
index.json counts as MISSING.

index.json, as written by autobahntestsuite's FuzzingFactory, looks like

    {"<agent>": {"1.1.1": {"behavior": "OK", "behaviorClose": "OK",
                           "remoteCloseCode": 1000, "duration": 2,
                           "reportfile": "<agent>_case_1_1_1.json"}, ...}}

`behavior` is one of OK, NON-STRICT, FAILED, INFORMATIONAL, UNIMPLEMENTED
(and, in old reports, NO_CLOSE); `behaviorClose` is one of OK, FAILED,
UNCLEAN, WRONG CODE, FAILED BY CLIENT, INFORMATIONAL.  A case passes only if
both are OK or INFORMATIONAL.  For the table every case gets one combined
status:

    UNIMPLEMENTED  behavior is UNIMPLEMENTED
    FAILED         behavior FAILED (or unknown), or close FAILED / UNCLEAN
    NON-STRICT     behavior NON-STRICT, or close WRONG CODE / FAILED BY CLIENT
    INFORMATIONAL  otherwise, if either is INFORMATIONAL
    OK             both OK

The last line printed is "N passed, M failed" where N counts OK and
INFORMATIONAL cases and M everything else (including MISSING cases), over
all roles.  Exit status: 0 if M == 0 and every index.json could be read,
1 otherwise, 2 on bad usage.

Works with Python 2.7 and 3.x and only needs the standard library.
"""

from __future__ import print_function

import json
import os
import sys

OK = "OK"
NON_STRICT = "NON-STRICT"
FAILED = "FAILED"
INFORMATIONAL = "INFORMATIONAL"
UNIMPLEMENTED = "UNIMPLEMENTED"
MISSING = "MISSING"
STATUSES = [OK, NON_STRICT, FAILED, INFORMATIONAL, UNIMPLEMENTED, MISSING]
PASSING = (OK, INFORMATIONAL)

SECTIONS = {
    1: "Framing",
    2: "Pings/Pongs",
    3: "Reserved Bits",
    4: "Opcodes",
    5: "Fragmentation",
    6: "UTF-8 Handling",
    7: "Close Handling",
    8: "Misc",
    9: "Limits/Performance",
    10: "Misc",
    11: "(unused)",
    12: "Compression (payloads)",
    13: "Compression (parameters)",
}


def case_key(case_id):
    """Sort key: "6.10.2" -> (6, 10, 2)."""
    out = []
    for part in str(case_id).split("."):
        try:
            out.append(int(part))
        except ValueError:
            out.append(0)
    return tuple(out)


def section_of(case_id):
    return case_key(case_id)[0]


def combined_status(behavior, behavior_close):
    if behavior == UNIMPLEMENTED:
        return UNIMPLEMENTED
    if behavior not in (OK, NON_STRICT, INFORMATIONAL):
        return FAILED
    if behavior_close not in (OK, INFORMATIONAL, "WRONG CODE", "FAILED BY CLIENT"):
        return FAILED
    if behavior == NON_STRICT or behavior_close in ("WRONG CODE", "FAILED BY CLIENT"):
        return NON_STRICT
    if INFORMATIONAL in (behavior, behavior_close):
        return INFORMATIONAL
    return OK


def read_expected(path):
    cases = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                cases.append(line)
    return cases


def case_details(index_dir, entry):
    """Result strings from the per-case report, if it is there."""
    name = entry.get("reportfile")
    if not name:
        return None, None
    try:
        with open(os.path.join(index_dir, name)) as f:
            report = json.load(f)
    except (IOError, OSError, ValueError):
        return None, None
    return report.get("result"), report.get("resultClose")


def shorten(text, limit=160):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def unreadable(expected):
    """Counts for a role without usable results: every expected case is
    MISSING (at least one failure, so the total line shows it)."""
    n = max(1, len(expected or []))
    print("counting %d case(s) as MISSING" % n)
    print()
    return 0, n, False


def summarise_role(label, path, expected):
    """Print the table and the non-OK cases of one role.

    Returns (passed, failed, ok_to_read)."""
    print("=" * 78)
    print("Autobahn %s role: %s" % (label, path))
    print("=" * 78)

    try:
        with open(path) as f:
            index = json.load(f)
    except (IOError, OSError, ValueError) as e:
        print("ERROR: cannot read %s: %s" % (path, e))
        return unreadable(expected)

    if not isinstance(index, dict) or not index:
        print("ERROR: %s holds no agent results" % path)
        return unreadable(expected)

    index_dir = os.path.dirname(path)
    passed = failed = 0
    for agent in sorted(index):
        cases = index[agent] or {}
        results = {}
        for case_id, entry in cases.items():
            results[case_id] = (
                combined_status(entry.get("behavior"), entry.get("behaviorClose")),
                entry,
            )
        for case_id in expected or []:
            if case_id not in results:
                results[case_id] = (MISSING, None)

        counts = {}
        for case_id, (status, _) in results.items():
            row = counts.setdefault(section_of(case_id), dict((s, 0) for s in STATUSES))
            row[status] += 1

        if len(index) > 1:
            print("agent: %s" % agent)
        header = "%-3s %-26s" % ("#", "section") + "".join(
            "%14s" % s for s in STATUSES) + "%7s" % "total"
        print(header)
        print("-" * len(header))
        totals = dict((s, 0) for s in STATUSES)
        for sec in sorted(counts):
            row = counts[sec]
            for s in STATUSES:
                totals[s] += row[s]
            print("%-3d %-26s" % (sec, SECTIONS.get(sec, "?")) + "".join(
                "%14d" % row[s] for s in STATUSES) + "%7d" % sum(row.values()))
        print("-" * len(header))
        print("%-3s %-26s" % ("", "all") + "".join(
            "%14d" % totals[s] for s in STATUSES) + "%7d" % sum(totals.values()))

        bad = sorted(
            (c for c, (s, _) in results.items() if s not in PASSING), key=case_key)
        if bad:
            print()
            print("Cases not OK (%s, agent %s):" % (label, agent))
            for case_id in bad:
                status, entry = results[case_id]
                if entry is None:
                    print("  %-9s %-13s not run / no result in index.json" % (case_id, status))
                    continue
                print("  %-9s %-13s behavior=%s behaviorClose=%s remoteCloseCode=%s duration=%sms" % (
                    case_id, status, entry.get("behavior"), entry.get("behaviorClose"),
                    entry.get("remoteCloseCode"), entry.get("duration")))
                result, result_close = case_details(index_dir, entry)
                if result and entry.get("behavior") not in PASSING:
                    print("            result: %s" % shorten(result))
                if result_close and entry.get("behaviorClose") not in PASSING:
                    print("            close:  %s" % shorten(result_close))
        print()
        passed += totals[OK] + totals[INFORMATIONAL]
        failed += sum(totals.values()) - totals[OK] - totals[INFORMATIONAL]
    return passed, failed, True


def main(argv):
    expected = None
    roles = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            print(__doc__)
            return 0
        if a == "--expected":
            if not args:
                print("--expected needs a file", file=sys.stderr)
                return 2
            expected = read_expected(args.pop(0))
        elif a.startswith("--expected="):
            expected = read_expected(a.split("=", 1)[1])
        elif "=" in a:
            label, path = a.split("=", 1)
            roles.append((label, path))
        else:
            roles.append((os.path.basename(os.path.dirname(os.path.abspath(a))) or a, a))
    if not roles:
        print(__doc__, file=sys.stderr)
        return 2

    total_passed = total_failed = 0
    all_read = True
    for label, path in roles:
        p, f, ok = summarise_role(label, path, expected)
        total_passed += p
        total_failed += f
        all_read = all_read and ok

    print("%d passed, %d failed" % (total_passed, total_failed))
    return 0 if total_failed == 0 and all_read else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
