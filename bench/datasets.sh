#!/usr/bin/env bash
# Datasets of any size (folder:DIR, streamed splits): figures for bench/RESULTS.md.
#
#   bench/datasets.sh [WORK]   (default: a temporary folder, deleted after; needs ~60 GB free)
#
# Makes three image folders from the bundled Fashion-MNIST subset (Debian's python3-pil for
# /usr/bin/python3; 28x28 PNGs, each copy shifted and mirrored so that no two files are the same):
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
  /usr/bin/python3 - "$root/tests/data/fashion-mnist-mini" "$work/$1" "$2" "$3" <<'PY'
import gzip, os, struct, sys
from PIL import Image, ImageOps
src, out, count, classes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def idx(path):
    data = gzip.open(path).read()
    n = struct.unpack(">I", data[4:8])[0]
    return (data[16:], n) if data[3] == 3 else (data[8:], n)
pixels, n = idx(f"{src}/train-images-idx3-ubyte.gz")
labels, _ = idx(f"{src}/train-labels-idx1-ubyte.gz")
for i in range(count):
    k = i % n
    im = Image.frombytes("L", (28, 28), pixels[k * 784:(k + 1) * 784])
    copy = i // n
    im = ImageOps.mirror(im) if copy % 2 else im
    im = im.transform((28, 28), Image.AFFINE, (1, 0, copy % 3 - 1, 0, 1, copy % 5 - 2))
    # Ten classes: Fashion-MNIST's; more: each image's class is its place in the folder, every tenth a test image.
    cls = labels[k] if classes == 10 else i % classes
    test = i >= count * 9 // 10 if classes == 10 else (i // classes) % 10 == 9
    folder = f"{out}/{'test' if test else 'train'}/c{cls:04d}"
    os.makedirs(folder, exist_ok=True)
    im.save(f"{folder}/{i:06d}.png")
PY
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
