"""Each process's memory growth in a soak (bench/soak.sh): a least-squares line through the memory
lines of its log after its first 5 minutes, in MB per hour, with the spread around that line.
The managed heap saws up and down with collections, so its line is also fitted through the lowest
value of each 5 minutes ('floor'). The resident line is fitted again over the second half of the
fitted time ('late'): warm-up slows, a leak does not. The resident set holds mapped files too
(libtorch's code, which the kernel drops at will), so its anonymous part, where a leak shows, is
fitted as well ('anon/h', where the lines have it). The full collections in the fitted time are
counted: old generations that grow with no full collection in between hold uncollected garbage
as much as anything kept.
Usage: python3 bench/soak-slopes.py OUT   (OUT: the soak's folder, with its 'processes' file)"""
import re
import sys
from datetime import datetime
from pathlib import Path

WARMUP_S = 300
# Lines written before 'anonymous' and 'in use' were added read as well.
LINE = re.compile(r"^(\S+) Info \[memory\] memory: resident ([\d.]+) MB(?: \(anonymous ([\d.]+) MB\))?, managed heap ([\d.]+) MB \((?:in use [\d.]+ MB, )?old generations ([\d.]+) MB, (\d+) full")


def fit(points):
    """Slope per hour and the residuals' standard deviation of y over t (seconds)."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    slope = sum((t - mt) * (y - my) for t, y in points) / var if var else 0.0
    sd = (sum((y - my - slope * (t - mt)) ** 2 for t, y in points) / max(1, n - 2)) ** 0.5
    return slope * 3600, sd


def main(out):
    out = Path(out)
    print(f"{'process':<8} {'pid':>7} {'lived':>6} {'samples':>7}  {'resident MB: first last slope/h (sd)':<38} {'managed MB: first last slope/h (sd)':<37} {'floor/h':>8} {'old/h':>7} {'full GCs':>8} {'resident late/h':>15} {'anon/h':>7}")
    for row in (out / "processes").read_text().split("\n"):
        if not row.strip():
            continue
        pid, name, log = row.split()
        samples = []
        for line in (out / log).read_text(errors="replace").split("\n"):
            m = LINE.match(line)
            if m:
                t = datetime.fromisoformat(m.group(1).replace("Z", "+00:00")[:26] + "+00:00").timestamp()
                samples.append((t, float(m.group(2)), float(m.group(4)), float(m.group(5)), int(m.group(6)), float(m.group(3)) if m.group(3) else None))
        if not samples:
            print(f"{name:<8} {pid:>7} no memory lines")
            continue
        t0 = samples[0][0] - 10
        lived = samples[-1][0] - t0
        warm = [s for s in samples if s[0] - t0 >= WARMUP_S]
        if len(warm) < 10:
            print(f"{name:<8} {pid:>7} {lived / 60:5.1f}m {len(samples):>7}  (under {WARMUP_S // 60} min after warm-up: no slope) resident last {samples[-1][1]:.0f} MB")
            continue
        (rs, rsd), (ms, msd), (os_, _) = (fit([(s[0], s[i]) for s in warm]) for i in (1, 2, 3))
        buckets = {}
        for s in warm:
            b = int((s[0] - warm[0][0]) // 300)
            if b not in buckets or s[2] < buckets[b][1]:
                buckets[b] = (s[0], s[2])
        floor = f"{fit(list(buckets.values()))[0]:+8.1f}" if len(buckets) >= 3 else "       -"
        half = [s for s in warm if s[0] >= (warm[0][0] + warm[-1][0]) / 2]
        late = f"{fit([(s[0], s[1]) for s in half])[0]:+15.1f}" if len(half) >= 10 else "              -"
        anon = [(s[0], s[5]) for s in warm if s[5] is not None]
        anon_slope = f"{fit(anon)[0]:+7.1f}" if len(anon) >= 10 else "      -"
        print(f"{name:<8} {pid:>7} {lived / 60:5.1f}m {len(warm):>7}  "
              f"{warm[0][1]:7.1f} {warm[-1][1]:7.1f} {rs:+7.1f} ({rsd:4.1f})         "
              f"{warm[0][2]:6.1f} {warm[-1][2]:6.1f} {ms:+7.1f} ({msd:4.1f})         {floor} {os_:+7.1f} {warm[-1][4] - warm[0][4]:>8} {late} {anon_slope}")


if __name__ == "__main__":
    main(sys.argv[1])
