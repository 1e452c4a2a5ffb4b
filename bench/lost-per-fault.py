#!/usr/bin/env python3
"""Compute lost per fault: a single-process search of real children (1@192, N = 1, F = 8, on the
bundled data) killed with SIGKILL at random moments and resumed, until it ends by itself.

At each kill, for each child in training (from the journal): the epochs in its checkpoint and the
time since that checkpoint was written. Per child held at a kill, the epochs trained again are,
with checkpoints, the time this attempt trained since its last checkpoint (since the attempt
started, if that is later); without them (every build before checkpoints), all the child had
trained: its checkpointed epochs and that time. In epochs of this run's median epoch time. The
journal's resumed epochs are checked against the checkpoints seen at the kills.

Usage: bench/lost-per-fault.py [--children 4] [--epochs 4] [--train-limit N] [--seed 1]
       [--wait-min 10] [--wait-max 40]      (seconds from a start to its kill, drawn uniformly)
Prints one JSON object (and a line per kill on stderr).
"""
import argparse, json, os, random, signal, sqlite3, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--children", type=int, default=4)
ap.add_argument("--epochs", type=int, default=4)
ap.add_argument("--train-limit", type=int, default=None)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--wait-min", type=float, default=10)
ap.add_argument("--wait-max", type=float, default=40)
a = ap.parse_args()
rng = random.Random(a.seed)
work = tempfile.mkdtemp(prefix="lost-per-fault-")
run = os.path.join(work, "run")
config = os.path.join(work, "config.json")
with open(config, "w") as f:
    json.dump({"strategy": "random", "seed": a.seed, "budget": a.children, "top_k": 0, "trainer": "torch", "workers_per_device": 1,
               "search": {"cells": 1, "filters": 8, "epochs": a.epochs, "train_limit": a.train_limit}}, f)

TICKS_AT_EPOCH = 621355968000000000  # .NET ticks (100 ns since year 1) at 1970-01-01


def events():
    """The run's journal: (unix time written, manifest, payload) in order."""
    db = sqlite3.connect(f"file:{os.path.join(run, 'journal.db')}?mode=ro", uri=True)
    try:
        return [((created - TICKS_AT_EPOCH) / 1e7, manifest, json.loads(message))
                for created, manifest, message in db.execute("SELECT created, manifest, message FROM journal ORDER BY ordering")]
    finally:
        db.close()


def in_training():
    """Children whose last attempt is assigned and has no outcome: child id -> when the attempt started."""
    running = {}
    for at, manifest, e in events():
        if manifest == "event.child-assigned" and not e["Final"]:
            running[e["ChildId"]] = at
        elif manifest in ("event.child-trained", "event.child-failed", "event.child-requeued"):
            running.pop(e["ChildId"], None)
    return running


def read_string(f):
    """A .NET BinaryWriter string: 7-bit encoded length, then UTF-8."""
    length, shift = 0, 0
    while True:
        b = f.read(1)[0]
        length |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return f.read(length).decode()


def checkpoint(child):
    """(epochs in it, unix time written) of a child's search checkpoint, or None."""
    path = os.path.join(run, "checkpoints", f"{child}-search", "checkpoint.bin")
    try:
        with open(path, "rb") as f:
            read_string(f)  # magic
            read_string(f)  # fingerprint
            return len(json.loads(read_string(f))), os.path.getmtime(path)
    except (OSError, IndexError, ValueError):
        return None


# Built first, then started directly: a build that ./nas starts because a source changed would be
# killed and counted as lost training.
subprocess.run(["./nas", "--help"], cwd=root, stdout=subprocess.DEVNULL, check=True)
env = dict(os.environ, MALLOC_ARENA_MAX=os.environ.get("MALLOC_ARENA_MAX", "2"))
kills = []
starts = 0
while True:
    args = ["dotnet", ".build/nas/nas.dll", "search", "--run", run, "--json"] + (["--config", config] if starts == 0 else [])
    p = subprocess.Popen(args, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    starts += 1
    try:
        p.wait(timeout=rng.uniform(a.wait_min, a.wait_max))
        if p.returncode != 0:
            sys.exit(f"lost-per-fault: the search exited {p.returncode} (see {run}/node.log)")
        break
    except subprocess.TimeoutExpired:
        now = time.time()
        held = [(child, started, checkpoint(child)) for child, started in in_training().items()]
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills.append({"at": now, "held": [{"child": c, "attempt_s": now - s, "checkpoint_epochs": ck[0] if ck else 0,
                                           "since_checkpoint_s": now - (ck[1] if ck else s)} for c, s, ck in held]})
        print(f"kill {len(kills)}: " + ", ".join(f"child {h['child']} ({h['checkpoint_epochs']} epochs checkpointed, {h['since_checkpoint_s']:.1f} s since)"
                                                   for h in kills[-1]["held"]), file=sys.stderr)

trained = [e for _, m, e in events() if m == "event.child-trained"]
# A resumed child's seconds include those of the epochs it restored: per epoch they hold for every child.
epoch_s = statistics.median(e["Seconds"] / a.epochs for e in trained)
held = [h for k in kills for h in k["held"]]
with_ck = [min(h["since_checkpoint_s"], h["attempt_s"]) / epoch_s for h in held]
without = [h["checkpoint_epochs"] + w for h, w in zip(held, with_ck)]
# The last kill of each child decides where its final attempt resumed: the journal must say the same.
last_seen = {}
for h in held:
    last_seen[h["child"]] = h["checkpoint_epochs"]
print(json.dumps({
    "children": a.children, "epochs": a.epochs, "train_limit": a.train_limit, "seed": a.seed, "starts": starts, "kills": len(kills),
    "children_held_at_kills": len(held), "epoch_s": round(epoch_s, 2),
    "epochs_lost_per_child_held": {"with_checkpoints_mean": round(statistics.mean(with_ck), 3) if held else None,
                                   "with_checkpoints_max": round(max(with_ck), 3) if held else None,
                                   "without_checkpoints_mean": round(statistics.mean(without), 3) if held else None,
                                   "without_checkpoints_max": round(max(without), 3) if held else None},
    "resumed_epochs_journal": sum(e.get("ResumedEpochs") or 0 for e in trained),
    "resumed_epochs_seen_at_kills": sum(last_seen.values()),
    "trained": len(trained), "run": run, "kill_log": kills,
}, indent=1))
