"""Where a process's anonymous memory is, by kind, from /proc/PID/smaps: the .NET GC's heap (its
reservation of 1 GB and more), glibc's main heap (brk) and its other arenas (mappings of up to
64 MB on 64 MB boundaries), executable code the JIT wrote, pages of mapped files the process
wrote to (copy on write), and the rest (thread stacks, libraries' own mappings). bench/life.sh
samples its processes every minute with 'sample'; 'fit' gives each kind's growth after the first
5 minutes, in MB per hour, so that a growing node shows which allocator grows.
Usage: python3 bench/memory-classes.py sample NAME:PID... >>FILE
       python3 bench/memory-classes.py fit FILE"""
import importlib
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
slopes = importlib.import_module("soak-slopes")  # the same line fit and warm-up as the memory lines

KINDS = ["gc", "brk", "arenas", "code", "file-cow", "other"]
HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$")


def kinds(pid):
    maps, current = [], None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            m = HEADER.match(line)
            if m:
                current = {"start": int(m.group(1), 16), "end": int(m.group(2), 16), "perm": m.group(3),
                           "inode": int(m.group(4)), "name": m.group(5).strip(), "anon_kb": 0}
                maps.append(current)
            elif line.startswith("Anonymous:") and current:
                current["anon_kb"] = int(line.split()[1])
    sizes = dict.fromkeys(KINDS, 0)
    anonymous = [x for x in maps if x["inode"] == 0 and (x["name"] == "" or x["name"].startswith("[anon"))]
    # The GC reserves one range and commits parts of it: adjacent mappings that together span a GB.
    spans = []
    for x in anonymous:
        if spans and spans[-1][-1]["end"] == x["start"]:
            spans[-1].append(x)
        else:
            spans.append([x])
    for span in spans:
        gc = span[-1]["end"] - span[0]["start"] >= 1 << 30
        for x in span:
            if gc:
                kind = "gc"
            elif "x" in x["perm"]:
                kind = "code"
            elif x["start"] % (64 << 20) == 0 and x["end"] - x["start"] <= 64 << 20:
                kind = "arenas"
            else:
                kind = "other"
            sizes[kind] += x["anon_kb"]
    for x in maps:
        if x["name"] == "[heap]":
            sizes["brk"] += x["anon_kb"]
        elif x["inode"] != 0:
            sizes["file-cow"] += x["anon_kb"]
        elif x["name"] == "[stack]":
            sizes["other"] += x["anon_kb"]
    return sizes


def sample(processes):
    now = time.time()
    for process in processes:
        name, pid = process.split(":")
        try:
            sizes = kinds(pid)
        except OSError:
            continue  # the process has ended
        print(f"{now:.0f} {name} " + " ".join(f"{k}={v / 1024:.1f}" for k, v in sizes.items()), flush=True)


def fit(path):
    series = defaultdict(list)
    for line in open(path):
        t, name, *fields = line.split()
        series[name].append((float(t), {k: float(v) for k, v in (f.split("=") for f in fields)}))
    print(f"{'process':<12} " + " ".join(f"{k + ' MB (MB/h)':>22}" for k in KINDS))
    for name, points in series.items():
        warm = [p for p in points if p[0] - points[0][0] >= slopes.WARMUP_S]
        if len(warm) < 3:
            print(f"{name:<12} under {slopes.WARMUP_S // 60} min after warm-up")
            continue
        cells = []
        for k in KINDS:
            slope, _ = slopes.fit([(t, s[k]) for t, s in warm])
            cells.append(f"{warm[0][1][k]:7.1f}-{warm[-1][1][k]:7.1f} ({slope:+6.1f})")
        print(f"{name:<12} " + " ".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "sample":
        sample(sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "fit":
        fit(sys.argv[2])
    else:
        sys.exit(__doc__)
