#!/usr/bin/env bash
# Image-folder datasets (folder:DIR): decoding and cache figures for bench/RESULTS.md.
#
#   bench/images.sh [COUNT]   (default 50,000 images: 45,000 train, 5,000 test)
#
# Makes COUNT PNG files in torchvision's ImageFolder layout from the bundled Fashion-MNIST subset
# (Debian's python3-pil for /usr/bin/python3; each copy shifted and mirrored, so no two files are
# the same bytes), then prints: `nas bench dataset` at 32 px (decoding every image with no cache,
# then reading the cache back; the cache's size), and one epoch of a 1@? NASNet-A child at 32 px.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
count="${1:-50000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$root/tests/data/fashion-mnist-mini" "$work/images" "$count" <<'PY'
import gzip, os, struct, sys
from PIL import Image, ImageOps
src, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
def idx(path):
    data = gzip.open(path).read()
    n = struct.unpack(">I", data[4:8])[0]
    return (data[16:], n) if data[3] == 3 else (data[8:], n)
pixels, n = idx(f"{src}/train-images-idx3-ubyte.gz")
labels, _ = idx(f"{src}/train-labels-idx1-ubyte.gz")
train = count * 9 // 10
for i in range(count):
    k = i % n
    im = Image.frombytes("L", (28, 28), pixels[k * 784:(k + 1) * 784])
    copy = i // n
    im = ImageOps.mirror(im) if copy % 2 else im
    im = im.transform((28, 28), Image.AFFINE, (1, 0, copy % 3 - 1, 0, 1, copy % 5 - 2))
    folder = f"{out}/{'train' if i < train else 'test'}/{names[labels[k]]}"
    os.makedirs(folder, exist_ok=True)
    im.save(f"{folder}/{i:06d}.png")
PY
echo "{\"made\": $count, \"bytes_on_disk\": $(du -sb "$work/images" | cut -f1)}"
"$root/nas" bench dataset --dataset "folder:$work/images" --image 32 --fresh --json
NAS_CACHE_DIR="$work/cache" "$root/nas" train --dataset "folder:$work/images" --image 32 --cells 1 --filters 8 --epochs 1 --validation 5000 --json 2>/dev/null \
  | /usr/bin/python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps({k: r[k] for k in ("network", "train_images", "seconds", "accuracy")}))'
