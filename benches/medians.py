#!/usr/bin/env python3
"""Print the median of every criterion benchmark under target/criterion (run after `cargo bench`)."""
import json
import pathlib

for est in sorted(pathlib.Path("target/criterion").glob("**/new/estimates.json")):
    bench = json.loads((est.parent / "benchmark.json").read_text())
    median_ns = json.loads(est.read_text())["median"]["point_estimate"]
    line = f"{bench['full_id']:<32} median {median_ns / 1000:>12.3f} µs"
    tp = bench.get("throughput") or {}
    if "Bytes" in tp:
        line += f"   {tp['Bytes'] / (median_ns / 1e9) / 1e6:>8.1f} MB/s"
    print(line)
