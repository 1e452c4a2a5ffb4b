"""Each process's memory growth in a soak (bench/soak.sh): a least-squares line through the memory
lines of its log after its first 5 minutes, in MB per hour, with the spread around that line.
Usage: python3 bench/soak-slopes.py OUT   (OUT: the soak's folder, with its 'processes' file)"""
import re
import sys
from datetime import datetime
from pathlib import Path

WARMUP_S = 300
LINE = re.compile(r"^(\S+) Info \[memory\] memory: resident ([\d.]+) MB, managed heap ([\d.]+) MB \(old generations ([\d.]+) MB")


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
    print(f"{'process':<10} {'pid':>7} {'lived':>7} {'samples':>7}  {'resident MB: first last  slope/h (sd)':<40} {'managed MB: first last slope/h (sd)':<38} old gens MB: slope/h")
    for row in (out / "processes").read_text().split("\n"):
        if not row.strip():
            continue
        pid, name, log = row.split()
        samples = []
        for line in (out / log).read_text(errors="replace").split("\n"):
            m = LINE.match(line)
            if m:
                t = datetime.fromisoformat(m.group(1).replace("Z", "+00:00")[:26] + "+00:00").timestamp()
                samples.append((t, float(m.group(2)), float(m.group(3)), float(m.group(4))))
        if not samples:
            print(f"{name:<10} {pid:>7} no memory lines")
            continue
        t0 = samples[0][0] - 10
        lived = samples[-1][0] - t0
        warm = [s for s in samples if s[0] - t0 >= WARMUP_S]
        if len(warm) < 10:
            print(f"{name:<10} {pid:>7} {lived / 60:6.1f}m {len(samples):>7}  (under {WARMUP_S // 60} min after warm-up: no slope) resident last {samples[-1][1]:.0f} MB")
            continue
        (rs, rsd), (ms, msd), (os_, _) = (fit([(s[0], s[i]) for s in warm]) for i in (1, 2, 3))
        print(f"{name:<10} {pid:>7} {lived / 60:6.1f}m {len(warm):>7}  "
              f"{warm[0][1]:7.1f} {warm[-1][1]:7.1f} {rs:+7.1f} ({rsd:4.1f})          "
              f"{warm[0][2]:6.1f} {warm[-1][2]:6.1f} {ms:+7.1f} ({msd:4.1f})          {os_:+6.1f}")


if __name__ == "__main__":
    main(sys.argv[1])
