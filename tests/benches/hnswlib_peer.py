#!/usr/bin/env python3
"""hnswlib peer for `vectorbench`: the same files, the same columns.

Reads base.f32 / queries.f32 / gt.u32 / meta.json written by vectorbench,
builds an hnswlib index (cosine space, M and ef_construction as given, all
cores), reports build time and the resident-memory delta of this process,
then for each ef: recall@10 and single-thread queries/s (one batch
knn_query call with num_threads=1, median of --runs runs).
Prints a human table and one `RESULT {json}` line for vectorbench.
Install: pip install hnswlib numpy
"""
import argparse
import json
import os
import statistics
import time

import hnswlib
import numpy as np


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--efs", default="10,16,24,32,48,64,96,128")
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    meta = json.load(open(os.path.join(a.dir, "meta.json")))
    n, dim, nq, k = meta["n"], meta["dim"], meta["queries"], meta["k"]
    base = np.fromfile(os.path.join(a.dir, "base.f32"), dtype="<f4").reshape(n, dim)
    queries = np.fromfile(os.path.join(a.dir, "queries.f32"), dtype="<f4").reshape(nq, dim)
    gt = np.fromfile(os.path.join(a.dir, "gt.u32"), dtype="<u4").reshape(nq, k)

    before = rss_bytes()
    t0 = time.perf_counter()
    index = hnswlib.Index(space="cosine", dim=dim)
    index.init_index(max_elements=n, M=a.m, ef_construction=a.ef_construction, random_seed=100)
    index.add_items(base, np.arange(n), num_threads=os.cpu_count())
    build_s = time.perf_counter() - t0
    rss_delta = rss_bytes() - before

    rows = []
    for ef in [int(x) for x in a.efs.split(",")]:
        index.set_ef(max(ef, k))
        rates, recall = [], 0.0
        for _ in range(a.runs):
            t = time.perf_counter()
            labels, _ = index.knn_query(queries, k=k, num_threads=1)
            rates.append(nq / (time.perf_counter() - t))
            recall = float(np.mean([len(set(labels[i]) & set(gt[i])) / k for i in range(nq)]))
        rows.append({"ef": ef, "recall": recall, "qps": statistics.median(rates), "qps_min": min(rates), "qps_max": max(rates)})

    print(f"hnswlib {hnswlib.__version__ if hasattr(hnswlib, '__version__') else ''}: M={a.m} ef_construction={a.ef_construction}, "
          f"build {build_s:.1f} s ({os.cpu_count()} threads), RSS +{rss_delta / 2**20:.0f} MiB")
    print(f"{'ef':>5} {'recall@10':>10} {'q/s median':>11} {'min':>8} {'max':>8}")
    for r in rows:
        print(f"{r['ef']:>5} {r['recall']:>10.3f} {r['qps']:>11.0f} {r['qps_min']:>8.0f} {r['qps_max']:>8.0f}")
    print("RESULT " + json.dumps({"name": "hnswlib", "build_s": build_s, "rss_bytes": rss_delta, "rows": rows}))


if __name__ == "__main__":
    main()
