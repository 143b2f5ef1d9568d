"""Summarise a pytest-benchmark JSON file as the Markdown tables of BENCHMARKS.md.

    python benchmarks/speed/report.py results.json
"""

import json
import sys
from collections import defaultdict


def main(path):
    with open(path) as f:
        doc = json.load(f)
    m = doc["machine_info"]
    print(f"machine: {m.get('cpu_model', m.get('processor'))}, {m.get('cpu_count')} cores, "
          f"OpenMP threads {m.get('omp_threads')}, torch threads {m.get('torch_threads')}, "
          f"torch {m.get('torch_version')}, benchmark device {m.get('bench_device', 'cpu')}"
          + (f", GPU {m['gpu']}" if m.get("gpu") else "") + "\n")
    groups = defaultdict(dict)
    for b in doc["benchmarks"]:
        groups[b["group"]][b["name"]] = b
    for group, benches in groups.items():
        print(f"### {group}\n")
        print("| benchmark | median (s) | min (s) | rounds | extra |")
        print("| --- | ---: | ---: | ---: | --- |")
        for name, b in benches.items():
            s = b["stats"]
            extra = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in b.get("extra_info", {}).items())
            print(f"| {name} | {s['median']:.4f} | {s['min']:.4f} | {s['rounds']} | {extra} |")
        print()


if __name__ == "__main__":
    main(sys.argv[1])
