"""Image folders in torchvision's ImageFolder layout, made from the bundled Fashion-MNIST subset.

    /usr/bin/python3 bench/make-images.py SRC OUT COUNT [CLASSES]

Writes COUNT 28x28 grayscale PNGs under OUT/train/CLASS and OUT/test/CLASS (Debian's python3-pil),
each copy of a source image shifted and mirrored so that no two files are the same bytes.
CLASSES 10 (the default): Fashion-MNIST's own classes and names, the last tenth of the images
the test split. Any other count: image i is in class c{i % CLASSES:04d}, every tenth image of a
class a test image.
"""
import gzip, os, struct, sys
from PIL import Image, ImageOps

src, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
classes = int(sys.argv[4]) if len(sys.argv) > 4 else 10
names = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


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
    if classes == 10:
        cls, test = names[labels[k]], i >= count * 9 // 10
    else:
        cls, test = f"c{i % classes:04d}", (i // classes) % 10 == 9
    folder = f"{out}/{'test' if test else 'train'}/{cls}"
    os.makedirs(folder, exist_ok=True)
    im.save(f"{folder}/{i:06d}.png")
