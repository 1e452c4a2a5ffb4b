#!/usr/bin/env bash
# Image-folder datasets (folder:DIR): decoding and cache figures for bench/RESULTS.md.
#
#   bench/images.sh [COUNT]   (default 50,000 images: 45,000 train, 5,000 test)
#
# Makes COUNT PNG files in torchvision's ImageFolder layout from the bundled Fashion-MNIST subset
# (bench/make-images.py: Debian's python3-pil for /usr/bin/python3; each copy shifted and mirrored,
# so no two files are the same bytes), then prints: `nas bench dataset` at 32 px (decoding every image with no cache,
# then reading the cache back; the cache's size), and one epoch of a 1@? NASNet-A child at 32 px.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
count="${1:-50000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/bench/make-images.py" "$root/tests/data/fashion-mnist-mini" "$work/images" "$count"
echo "{\"made\": $count, \"bytes_on_disk\": $(du -sb "$work/images" | cut -f1)}"
"$root/nas" bench dataset --dataset "folder:$work/images" --image 32 --fresh --json
NAS_CACHE_DIR="$work/cache" "$root/nas" train --dataset "folder:$work/images" --image 32 --cells 1 --filters 8 --epochs 1 --validation 5000 --json 2>/dev/null \
  | /usr/bin/python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps({k: r[k] for k in ("network", "train_images", "seconds", "accuracy")}))'
