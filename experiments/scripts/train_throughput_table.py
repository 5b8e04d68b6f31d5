#!/usr/bin/env python3
"""Summarises a train-throughput.sh run: the side-by-side table of Flex (dev, release)
and HF T5 (PyTorch) training samples/s, per preset, as Markdown on stdout and
`summary.json` in the run directory.

Each round of the driver wrote `round<r>-flex-dev.json`, `round<r>-flex-release.json`,
with `AVX512=1` also `round<r>-flex-release-avx512.json`, with `TCH=1` also
`round<r>-libtorch-t1.json` and `round<r>-libtorch-t2.json` (Burn's LibTorch backend at 1 and
2 LibTorch threads per shard), from cuda-check.sh `round<r>-cuda.json` (Burn's CUDA
backend) (`specgr bench train`) and `round<r>-hf.json` (hf_t5_train_bench.py), all timed on the
same batches. Per configuration: median, min and max samples/s over rounds, and the
pooled rate (all samples over all time: the estimator of an epoch's rate when rounds
timed different batches, as in repeat-1); the ratio
to the baseline (Flex dev build, shuffled batches, 2 shards, same preset; without a
dev build, in cuda-check.sh runs: Flex release, shuffled, the fewest shards); real and
padded encoder tokens per sample; GFLOP/s counted on real tokens (`specgr bench
train`'s formula, the same batches for both implementations) and that rate as a share
of the implementation's own matmul peak at the model's shapes (Flex: rayon on all
cores; PyTorch: at the run's thread count).

    python experiments/scripts/train_throughput_table.py OUT_DIR
"""

import glob
import json
import os
import statistics
import sys


def load(out, kind):
    files = sorted(glob.glob(os.path.join(out, f"round*-{kind}.json")), key=lambda p: int(os.path.basename(p)[5:].split("-")[0]))
    return [json.load(open(f)) for f in files]


def main():
    out = sys.argv[1]
    dev, rel, hf = load(out, "flex-dev"), load(out, "flex-release"), load(out, "hf")
    rel512 = load(out, "flex-release-avx512")
    tch = {t: load(out, f"libtorch-t{t}") for t in (1, 2)}
    cuda = load(out, "cuda")
    rows = {}  # key -> dict(rates, real, padded, ...)

    def add(key, rate, real, padded, meta):
        n = meta.pop("samples")  # samples of one round
        r = rows.setdefault(key, dict(rates=[], real=[], padded=[], samples=0, seconds=0.0, **meta))
        r["rates"].append(rate)
        r["samples"] += n
        r["seconds"] += n / rate
        r["real"].append(real)
        r["padded"].append(padded)

    gflop_per_sample = {}  # (preset, batching) -> [GFLOP/sample] from the release runs
    for build, reports in (("dev", dev), ("release", rel), ("release-avx512", rel512)):
        for rep in reports:
            for run in rep["runs"]:
                key = ("Flex", build, run["preset"], run["batching"], run["shards"])
                add(key, run["median_samples_per_sec"], run["real_tokens_per_sample"], run["padded_tokens_per_sample"],
                    dict(params=run["params"], samples=rep["batch_size"]
                         * (rep.get("sorted_steps", rep["steps"]) if run["batching"] == "sorted" else rep["steps"])))
                gflop_per_sample.setdefault((run["preset"], run["batching"]), []).append(run["train_gflop_per_sample_real"])
    for t, reports in tch.items():
        for rep in reports:
            for run in rep["runs"]:
                key = ("LibTorch (Burn)", f"release, {t} thread{'s' if t > 1 else ''}/shard", run["preset"], run["batching"], run["shards"])
                add(key, run["median_samples_per_sec"], run["real_tokens_per_sample"], run["padded_tokens_per_sample"],
                    dict(params=run["params"], threads=t, samples=rep["batch_size"]
                         * (rep.get("sorted_steps", rep["steps"]) if run["batching"] == "sorted" else rep["steps"])))
    for rep in cuda:
        for run in rep["runs"]:
            key = ("CUDA (Burn)", "release", run["preset"], run["batching"], run["shards"])
            add(key, run["median_samples_per_sec"], run["real_tokens_per_sample"], run["padded_tokens_per_sample"],
                dict(params=run["params"], samples=rep["batch_size"]
                     * (rep.get("sorted_steps", rep["steps"]) if run["batching"] == "sorted" else rep["steps"])))
    for rep in hf:
        for run in rep["runs"]:
            key = ("HF T5 (PyTorch)", f"torch {rep['torch']}", run["preset"], run["batching"], run["threads"])
            add(key, run["median_samples_per_sec"], run["real_tokens_per_sample"], run["padded_tokens_per_sample"],
                dict(params=run["params"], attn=run["attn_implementation"],
                     samples=run["export"].get("steps_per_round", run["export"]["batches"]) * run["export"]["batch_size"]))
    flex_peak = statistics.median(r["matmul_peak_gflops"] for r in rel) if rel else float("nan")
    # gemm's AVX-512 kernels have their own, higher peak: each build against its own.
    flex_peak_by_build = {"dev": flex_peak, "release": flex_peak}
    if rel512:
        flex_peak_by_build["release-avx512"] = statistics.median(r["matmul_peak_gflops"] for r in rel512)
    # LibTorch's peak (measured by the same binary through Burn, at its thread count).
    tch_peak = {t: statistics.median(r["matmul_peak_gflops"] for r in reps) for t, reps in tch.items() if reps}
    cuda_peak = statistics.median(r["matmul_peak_gflops"] for r in cuda) if cuda else float("nan")
    torch_peak = {}
    for rep in hf:
        for t, v in (rep.get("matmul_peak_by_threads") or {}).items():
            torch_peak.setdefault(int(t), []).append(v["peak_gflops"])
    torch_peak = {t: statistics.median(v) for t, v in torch_peak.items()}

    summary = dict(flex_matmul_peak_gflops=flex_peak, flex_matmul_peak_gflops_by_build=flex_peak_by_build,
                   libtorch_matmul_peak_gflops_by_threads=tch_peak, cuda_matmul_peak_gflops=cuda_peak,
                   torch_matmul_peak_gflops=torch_peak, rounds=len(rel), presets={})
    lines = []
    first = (rel or dev)[0]
    machine = os.path.join(out, "machine.txt")
    if os.path.exists(machine):  # the revision the driver built from
        line = open(machine).readline()
        if line.startswith("git: "):
            first = dict(first, git_revision=line[5:].split()[0])
    lines.append(f"Run `{out}`: {len(rel)} rounds of {first['steps']} steps (shuffled) or {first['sorted_steps']} (sorted) x {first['batch_size']} examples per configuration, "
                 f"{first['dataset']} ({first['ids']}), seed {first['seed']}, git {first['git_revision']}, {first['machine']['cpu']} "
                 f"({first['machine']['cores']} cores).")
    avx512 = f", Flex with gemm's AVX-512 kernels {flex_peak_by_build['release-avx512']:.1f}" if rel512 else ""
    lines.append(f"Matmul peak at the models' shapes: Flex {flex_peak:.1f} GFLOP/s (all cores){avx512}"
                 + ("; PyTorch " if torch_peak else "") + ", ".join(f"{v:.1f} GFLOP/s at {t} thread{'s' if t > 1 else ''}" for t, v in sorted(torch_peak.items()))
                 + "".join(f"; LibTorch through Burn {v:.1f} at {t} thread{'s' if t > 1 else ''}" for t, v in sorted(tch_peak.items()))
                 + (f"; CUDA through Burn {cuda_peak:.1f}" if cuda else "") + ".")
    lines.append("")
    presets = []
    for key in rows:
        if key[2] not in presets:
            presets.append(key[2])
    for preset in presets:
        base_key = ("Flex", "dev", preset, "shuffled", 2)
        if base_key not in rows and cuda:  # cuda-check.sh: the Flex release row with the fewest shards
            base_key = min((k for k in rows if k[:4] == ("Flex", "release", preset, "shuffled")), key=lambda k: k[4], default=base_key)
        base = statistics.median(rows[base_key]["rates"]) if base_key in rows else float("nan")
        lines.append(f"### {preset} ({next(r['params'] for k, r in rows.items() if k[2] == preset):,} parameters)")
        lines.append("")
        lines.append("| implementation | build | batching | shards / threads | samples/s median | min–max | pooled | vs baseline | real tok/sample | padded tok/sample | GFLOP/s (real tokens) | of own matmul peak |")
        lines.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        table = []
        order = {"dev": 0, "release": 1, "release-avx512": 2}
        impl_order = {"Flex": 0, "LibTorch (Burn)": 1, "CUDA (Burn)": 2}
        for key in sorted((k for k in rows if k[2] == preset), key=lambda k: (impl_order.get(k[0], 2), order.get(k[1], k[1]) if k[0] == "Flex" else k[1], k[3] != "shuffled", k[4])):
            r = rows[key]
            med = statistics.median(r["rates"])
            pooled = r["samples"] / r["seconds"]
            gps = statistics.mean(gflop_per_sample.get((preset, key[3]), [float("nan")]))
            gflops = med * gps
            if key[0] == "Flex":
                peak = flex_peak_by_build.get(key[1], flex_peak)
            elif key[0] == "CUDA (Burn)":
                peak = cuda_peak
            elif key[0] == "LibTorch (Burn)":
                # all the cores the configuration uses: shards x threads (the peak at that many threads)
                peak = tch_peak.get(min(2, key[4] * r["threads"]), float("nan"))
            else:
                peak = torch_peak.get(key[4], float("nan"))
            par = f"{key[4]} shard{'s' if key[4] > 1 else ''}" if key[0] != "HF T5 (PyTorch)" else f"{key[4]} thread{'s' if key[4] > 1 else ''}"
            entry = dict(implementation=key[0], build=key[1], preset=preset, batching=key[3], parallel=key[4],
                         rounds_samples_per_sec=r["rates"], median_samples_per_sec=med, min_samples_per_sec=min(r["rates"]),
                         max_samples_per_sec=max(r["rates"]), pooled_samples_per_sec=pooled, ratio_to_baseline=med / base,
                         real_tokens_per_sample=statistics.mean(r["real"]), padded_tokens_per_sample=statistics.mean(r["padded"]),
                         gflops_real=gflops, share_of_own_peak=gflops / peak, attn=r.get("attn"))
            table.append(entry)
            lines.append(f"| {key[0]} | {key[1]} | {key[3]} | {par} | {med:.1f} | {min(r['rates']):.1f}–{max(r['rates']):.1f} | {pooled:.1f} | "
                         f"{med / base:.2f}x | {entry['real_tokens_per_sample']:.1f} | {entry['padded_tokens_per_sample']:.1f} | "
                         f"{gflops:.1f} | {100 * gflops / peak:.0f} % |")
        lines.append("")
        flex = [e for e in table if e["implementation"] == "Flex" and e["build"].startswith("release")]
        torch_rows = [e for e in table if e["implementation"] == "HF T5 (PyTorch)"]
        tch_rows = [e for e in table if e["implementation"] == "LibTorch (Burn)"]
        if flex:
            best = max(flex, key=lambda e: e["median_samples_per_sec"])
            lines.append(f"- Best Flex release: {best['build']}, {best['batching']}, {best['parallel']} shard(s), {best['median_samples_per_sec']:.1f} samples/s = "
                         f"**{best['ratio_to_baseline']:.2f}x** the baseline (goal: >= 5x).")
            for e in flex:
                same = [t for t in torch_rows if t["batching"] == e["batching"] and t["parallel"] == e["parallel"]]
                if same:
                    t = same[0]
                    lines.append(f"- {e['build']}, {e['batching']}, {e['parallel']} shard(s) vs PyTorch {t['parallel']} thread(s): "
                                 f"{e['median_samples_per_sec']:.1f} / {t['median_samples_per_sec']:.1f} = "
                                 f"**{e['median_samples_per_sec'] / t['median_samples_per_sec']:.2f}x**")
            best_t = max(torch_rows, key=lambda e: e["median_samples_per_sec"], default=None)
            if best_t:
                lines.append(f"- Best Flex / best PyTorch ({best_t['batching']}, {best_t['parallel']} threads): "
                             f"**{best['median_samples_per_sec'] / best_t['median_samples_per_sec']:.2f}x** (goal: >= 1x).")
        if tch_rows:
            best_l = max(tch_rows, key=lambda e: e["median_samples_per_sec"])
            lines.append(f"- Best LibTorch (Burn): {best_l['build']}, {best_l['batching']}, {best_l['parallel']} shard(s), "
                         f"{best_l['median_samples_per_sec']:.1f} samples/s = {best_l['ratio_to_baseline']:.2f}x the baseline"
                         + (f"; best Flex / best LibTorch **{best['median_samples_per_sec'] / best_l['median_samples_per_sec']:.2f}x**" if flex else "") + ".")
        lines.append("")
        summary["presets"][preset] = table
    print("\n".join(lines))
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
