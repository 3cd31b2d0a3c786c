#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Draw gmbench results as a PNG with gnuplot.

    chart.py --out bench/results/bench.png bench/results/6.1.json bench/results/6.12.json

One group of bars per table row that has a ratio in at least one file (one
bar per kernel, log scale, ratio = ours / peer, lower is better) and a cross
at the row's goal.  Rows that are n/a everywhere are left out; a kernel on
which a row is n/a has no bar there.  The gnuplot data and script are kept
next to the PNG (.dat, .gp).
"""
import argparse
import json
import os
import subprocess
import sys


def size_text(n):
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return f"{n}B" if n else ""


def label(row):
    parts = [row["op"], size_text(row["size"]), row["memory"], "vs", row["peer"]["name"]]
    return " ".join(p for p in parts if p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()

    runs = []
    for f in a.files:
        with open(f) as fh:
            runs.append((os.path.splitext(os.path.basename(f))[0], json.load(fh)))

    labels, ratios, goals = [], {}, {}
    for _, data in runs:
        for row in data["rows"]:
            lab = label(row)
            if lab not in labels:
                labels.append(lab)
            if row.get("goal"):
                goals[lab] = row["goal"]["max_ratio"]
    for k, data in runs:
        for row in data["rows"]:
            if row.get("ratio") is not None:
                ratios[(k, label(row))] = row["ratio"]
    labels = [l for l in labels if any((k, l) in ratios for k, _ in runs)]
    if not labels:
        print("chart.py: no row has a ratio yet; no chart", file=sys.stderr)
        return 0

    base = os.path.splitext(a.out)[0]
    with open(base + ".dat", "w") as dat:
        dat.write("# label " + " ".join(k for k, _ in runs) + " goal\n")
        for lab in labels:
            vals = [ratios.get((k, lab)) for k, _ in runs]
            cols = ["?" if v is None else f"{v:.4g}" for v in vals]
            goal = goals.get(lab)
            cols.append("?" if goal is None else f"{goal:.4g}")
            dat.write('"%s" %s\n' % (lab.replace('"', "'"), " ".join(cols)))

    n = len(runs)
    plots = [f'"{base}.dat" using {i + 2}:xtic(1) title "{k}"' for i, (k, _) in enumerate(runs)]
    plots.append(f'"" using ($0):{n + 2} with points pt 2 ps 2 lc rgb "black" title "goal (max)"')
    first = runs[0][1]
    title = "gmbench: ours / peer (median time; lower is better) on %s" % first.get("machine", "?")
    width = max(1200, 40 * len(labels) + 300)
    script = f"""set terminal png noenhanced size {width},900
set output "{a.out}"
set title "{title.replace('"', "'")}\\nQEMU TCG distorts absolute times; shared 2-core host: noisy"
set datafile missing "?"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "ratio ours / peer (log)"
set grid ytics
set xtics rotate by -60 font ",8" nomirror
set key top left
set bmargin 24
set rmargin 12
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
plot {", ".join(plots)}
"""
    with open(base + ".gp", "w") as gp:
        gp.write(script)
    subprocess.run(["gnuplot", base + ".gp"], check=True)
    print(f"chart: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
