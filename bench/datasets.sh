#!/usr/bin/env bash
# Datasets of any size (folder:DIR, streamed splits): figures for bench/RESULTS.md.
#
#   bench/datasets.sh [WORK]   (default: a temporary folder, deleted after; needs ~60 GB free)
#
# Makes three image folders from the bundled Fashion-MNIST subset (bench/make-images.py, with
# Debian's python3-pil for /usr/bin/python3; 28x28 PNGs, each copy shifted and mirrored):
#   classes1000: 1,000 classes of 20 images (18 train, 2 test);
#   images15000: 15,000 images, 10 classes (a 2.1 GiB cache at 224 px);
#   images72000: 72,000 images, 10 classes (a 10.1 GiB cache at 224 px).
# Then `nas bench dataset --fresh --json` on each (decode, open, one streamed epoch of the
# training split, peak anonymous memory), and one `nas train` epoch of a 1@? child at 224 px on
# 640 images of images15000, in memory and streamed (NAS_STREAM_ABOVE_MB=0): the same result,
# and the seconds of each (bench/RESULTS.md pairs them with farm-bench for the ratio).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-}"
if [[ -z "$work" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
make() { # NAME COUNT CLASSES
  [[ -d "$work/$1" ]] && return
  /usr/bin/python3 "$root/bench/make-images.py" "$root/tests/data/fashion-mnist-mini" "$work/$1" "$2" "$3"
}
make classes1000 20000 1000
make images15000 15000 10
make images72000 72000 10
for spec in "classes1000 32" "images15000 224" "images72000 224"; do
  set -- $spec
  echo "{\"folder\": \"$1\", \"bytes_on_disk\": $(du -sb "$work/$1" | cut -f1)}"
  "$root/nas" bench dataset --dataset "folder:$work/$1" --image "$2" --fresh --json
done
for stream in "" 0; do
  NAS_STREAM_ABOVE_MB="$stream" NAS_CACHE_DIR="$work/cache" "$root/nas" train --dataset "folder:$work/images15000" --image 224 --train-limit 640 \
    --cells 1 --filters 8 --epochs 1 --validation 1000 --json 2>/dev/null \
    | /usr/bin/python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps({"streamed": sys.argv[1] == "0", **{k: r[k] for k in ("network", "train_images", "seconds", "accuracy", "train_loss")}}))' "$stream"
done
