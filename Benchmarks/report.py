#!/usr/bin/env python3
"""Prints the benchmark table from spawnbench's JSON lines and writes the combined JSON (and a PNG
chart when gnuplot is installed).

    report.py RESULTS.jsonl OUT.json COMMIT
"""
import json
import os
import platform
import re
import shutil
import subprocess
import sys

results_path, out_path, commit = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(line) for line in open(results_path) if line.strip()]
# "paired N: X" rows are the interleaved rounds behind the Step 10 ratios, summarised below.
paired_rows = [row for row in rows if row["label"].startswith("paired ")]
rows = [row for row in rows if not row["label"].startswith("paired ")]
by_label = {row["label"]: row for row in rows if "instructions" not in row}


def paired_ratio(label):
    """The median over the interleaved rounds of (label's median / the plugin's median, same round),
    with the rounds' range; None when the run has no rounds."""
    rounds = {}
    for row in paired_rows:
        number, name = row["label"][len("paired "):].split(": ", 1)
        rounds.setdefault(number, {})[name] = row["median_ms"]
    ratios = sorted(r[label] / r["minimal C plugin (jansson)"] for r in rounds.values()
                    if label in r and r.get("minimal C plugin (jansson)"))
    if not ratios:
        return None
    return {"ratio": ratios[len(ratios) // 2], "low": ratios[0], "high": ratios[-1], "rounds": len(ratios)}


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


machine = {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release()}
minimal = by_label.get("minimal C plugin (jansson)", {}).get("median_ms")

print()
print(f"Pullwarden benchmarks — commit {commit} — {machine['cpu']}, {machine['cores']} cores")
print()
header = f"{'figure':<48} {'median':>10} {'p99':>10} {'peak RSS':>10}  note"
print(header)
print("-" * len(header))
for row in rows:
    label = row["label"]
    if "median_ms" not in row:
        continue
    note = ""
    if (label.startswith("provide") or label.startswith("verify, one process")) and minimal and row.get("parallel", 0) == 0:
        note = f"{row['median_ms'] / minimal:.2f}x the minimal C plugin"
    if row.get("parallel"):
        note = f"{row['processes_per_second']:.0f} processes/s ({row['parallel']} at once)"
    if row.get("note"):
        note = row["note"]
    rss = f"{row.get('peak_rss_kib', 0) / 1024:.1f} MiB" if row.get("peak_rss_kib") else ""
    print(f"{label:<48} {row['median_ms']:>8.3f}ms {row['p99_ms']:>8.3f}ms {rss:>10}  {note}")

# Batch verifier: per-decision cost from one pass (records read from disk) and from the extra
# passes of a longer run (records already in memory).
# The batch runs are deterministic CPU work, so each is taken at its fastest run: the slower runs
# measure the machine's other tenants, and a difference of two medians drowned in their noise.
batch = []
for count in (1000, 10000, 100000):
    one = by_label.get(f"verify --batch, {count} records, 1 pass")
    repeated = next(((int(m.group(1)), row) for label, row in by_label.items()
                     if (m := re.fullmatch(rf"verify --batch, {count} records, (\d+) passes", label))), None)
    single = by_label.get(f"verify, one process, {count} records")
    if not (one and repeated):
        continue
    passes, many = repeated
    warm_us = (many["min_ms"] - one["min_ms"]) * 1000 / (count * (passes - 1))
    cold_us = one["min_ms"] * 1000 / count
    batch.append({"records": count, "first_pass_us_per_decision": round(cold_us, 2),
                  "in_memory_us_per_decision": round(warm_us, 2),
                  "decisions_per_second_in_memory": round(1e6 / warm_us) if warm_us > 0 else None,
                  "process_ms_one_pass": one["min_ms"], "peak_rss_kib": many.get("peak_rss_kib"),
                  "single_process_ms": single["median_ms"] if single else None})
if batch:
    print()
    print(f"{'verify --batch':<16} {'1st pass (disk)':>18} {'in memory':>14} {'decisions/s':>13} {'peak RSS':>10} {'one verify process':>20}")
    for b in batch:
        print(f"{b['records']:>8} records {b['first_pass_us_per_decision']:>13.2f} µs/d {b['in_memory_us_per_decision']:>9.2f} µs/d "
              f"{b['decisions_per_second_in_memory'] or 0:>13,} {(b['peak_rss_kib'] or 0) / 1024:>8.1f} MiB {b['single_process_ms'] or 0:>17.3f} ms")
    print("  each from the fastest run; in memory = (a run deciding every record many times - one pass) / extra decisions")
    print("  anchor: the kubelet's file-backed check ~335 µs, its in-memory cache ~120 µs per check (its benchmarks)")

sizes = [row for row in rows if "stripped_bytes" in row]
if sizes:
    print()
    for row in sizes:
        print(f"{row['label']:<48} {row['bytes'] / 1e6:>8.1f} MB, {row['stripped_bytes'] / 1e6:.1f} MB stripped")

for row in rows:
    if "lookup_p50_us" in row:
        print()
        print(f"{row['label']} ({row['seconds']:.0f} s): p50 {row['lookup_p50_us']} µs, p99 {row['lookup_p99_us']} µs, "
              f"max {row['lookup_max_us']} µs over {row['lookups']:,} lookups; {row['provides']:,} provides, "
              f"{row['failed_calls']} failed calls, {row['lost_updates']} lost updates")

check = by_label.get("concurrency check")
if check:
    print()
    print(f"concurrency: {check['lost_updates']} record updates lost "
          f"({check['images']} images x {check['expected_secrets_per_image']} Secrets expected)")

# Instruction counts: a label may appear twice, once timed and once counted.
counts = {row["label"]: row["instructions"] for row in rows if "instructions" in row}
instructions = {}
if counts:
    print()
    print("instructions in user space (callgrind): repeatable on a busy machine, unlike the times above;")
    print("  exec, page faults and other kernel work are not counted, so the ratios are not the wall-time ones")
    minimal_count = counts.get("minimal C plugin (jansson)")
    for label, value in counts.items():
        note = f"{value / minimal_count:.2f}x the minimal C plugin" if minimal_count and label.startswith(("provide", "verify, one")) else ""
        print(f"  {label:<46} {value:>14,}  {note}")
    one = counts.get("verify --batch, 1000 records, 1 pass")
    two = counts.get("verify --batch, 1000 records, 2 passes")
    before_one = counts.get("verify --batch, 1000 records, 1 pass, before")
    before_two = counts.get("verify --batch, 1000 records, 2 passes, before")
    if before_one and before_two:
        instructions["verify_batch_in_memory_per_decision_before"] = round((before_two - before_one) / 1000)
    if one and two:
        instructions["verify_batch_in_memory_per_decision"] = round((two - one) / 1000)
        instructions["verify_batch_first_pass_per_decision"] = round(one / 1000)
        print(f"  {'verify --batch, in memory, per decision':<46} {instructions['verify_batch_in_memory_per_decision']:>14,}")
        if "verify_batch_in_memory_per_decision_before" in instructions:
            print(f"  {'verify --batch, in memory, per decision, before':<46} {instructions['verify_batch_in_memory_per_decision_before']:>14,}")
    instructions.update(counts)

# Step 10's targets, each beside its baseline from this same run (issue 15: provide and verify at
# most 2.0x the minimal C plugin, provide's peak RSS at most 8 MiB, stripped binary under 20 MB).
targets = []
def target(name, value, limit, text):
    if value is not None:
        targets.append({"figure": name, "value": value, "limit": limit, "met": value <= limit})
        print(f"  {name:<46} {text:<44} {'met' if value <= limit else 'NOT met'} (target {limit:g})")
provide = by_label.get("provide, dockerConfig")
verify = by_label.get("verify, one process, 100000 records")
floor = by_label.get("C hello world linking jansson, yaml, libm")
release_size = next((row for row in rows if row.get("label") == "binary size, release"), None)
if minimal and (provide or verify):
    print()
    print("Step 10 targets (issue 15), from this run:")
    # The ratios come from the interleaved rounds when the run has them (the blocks above, timed
    # seconds apart, are printed beside them for reference).
    def ratio_target(name, label, block):
        paired = paired_ratio(label)
        if paired:
            text = (f"{paired['ratio']:.2f}x, median of {paired['rounds']} interleaved rounds "
                    f"({paired['low']:.2f}-{paired['high']:.2f}x)")
            if block:
                text += f"; in the blocks above {block['median_ms'] / minimal:.2f}x"
            target(name, round(paired["ratio"], 2), 2.0, text)
        elif block:
            target(name, round(block["median_ms"] / minimal, 2), 2.0,
                   f"{block['median_ms']:.3f} ms / {minimal:.3f} ms = {block['median_ms'] / minimal:.2f}x")

    ratio_target("provide (dockerConfig) / minimal C plugin", "provide, dockerConfig", provide)
    if provide and provide.get("peak_rss_kib"):
        target("provide peak RSS, MiB", round(provide["peak_rss_kib"] / 1024, 1), 8.0,
               f"{provide['peak_rss_kib'] / 1024:.1f} MiB (C plugin {by_label['minimal C plugin (jansson)'].get('peak_rss_kib', 0) / 1024:.1f} MiB)")
    ratio_target("verify, 100k records / minimal C plugin", "verify, one process, 100000 records", verify)
    for label in ("provide, dockerConfig, pullwarden-dynamic", "verify, one process, 100000 records, pullwarden-dynamic"):
        paired = paired_ratio(label)
        if paired:
            print(f"  for comparison, the dynamically linked sibling: {label}: {paired['ratio']:.2f}x "
                  f"({paired['low']:.2f}-{paired['high']:.2f}x; docs/design-decisions.md, \"Third pass\")")
    if release_size:
        sibling_size = next((row for row in rows if row.get("label") == "binary size, release, pullwarden-dynamic"), None)
        beside = f" (pullwarden-dynamic beside it: {sibling_size['stripped_bytes'] / 1e6:.1f} MB)" if sibling_size else ""
        target("stripped release binary, MB", round(release_size["stripped_bytes"] / 1e6, 1), 20.0,
               f"{release_size['stripped_bytes'] / 1e6:.1f} MB{beside}")
    if floor:
        print(f"  floor: a C program that only loads the same libraries (glibc, libjansson, libyaml, libm) takes "
              f"{floor['median_ms']:.3f} ms = {floor['median_ms'] / minimal:.2f}x the plugin")
    write = by_label.get("C: only the record write's file-system calls")
    if write:
        print(f"  floor: a C program that only makes provide's record-write file-system calls takes "
              f"{write['median_ms']:.3f} ms = {write['median_ms'] / minimal:.2f}x the plugin (which writes nothing)")

summary = {"commit": commit, "machine": machine, "results": rows, "verify_batch": batch, "instructions": instructions,
           "step10_targets": targets, "paired_rounds": paired_rows}
with open(out_path, "w") as f:
    json.dump(summary, f, indent=2)
print()
print(f"results written to {out_path}")

if batch and shutil.which("gnuplot"):
    data = out_path.replace(".json", ".dat")
    png = out_path.replace(".json", ".png")
    with open(data, "w") as f:
        for b in batch:
            f.write(f"{b['records']} {b['first_pass_us_per_decision']} {b['in_memory_us_per_decision']} {(b['single_process_ms'] or 0) * 1000}\n")
    script = f"""set terminal pngcairo size 900,540
set output '{png}'
set title 'pullwarden verify: latency against record count ({commit})'
set logscale x
set logscale y
set xlabel 'records on disk'
set ylabel 'microseconds'
set key top left
plot '{data}' using 1:2 with linespoints title 'batch, first pass (per decision)', \\
     '{data}' using 1:3 with linespoints title 'batch, in memory (per decision)', \\
     '{data}' using 1:4 with linespoints title 'one verify process (whole process)'
"""
    subprocess.run(["gnuplot"], input=script.encode(), check=True)
    print(f"chart written to {png}")
