"""make_jpegs.py: an ImageNet-like image folder for the loader benchmark: CLASSES classes of
PER_CLASS photo-like JPEGs each under DIR/train (sizes around ImageNet's typical 400x350 to
500x375, quality 75 to 95), and two per class under DIR/val.

  python3 make_jpegs.py DIR [CLASSES] [PER_CLASS]
"""
import os
import sys

import numpy as np
from PIL import Image


def picture(rng, w, h):
    """Smooth shapes and gradients under noise: it compresses like a photo, unlike pure noise or flat colour."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(20, 200)
        colour = rng.uniform(0, 255, 3)
        mask = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
        img = img * (1 - mask) + colour * mask
    img += rng.normal(0, 8, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def main():
    root = sys.argv[1]
    classes = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    per_class = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    rng = np.random.default_rng(0)
    for split, count in (("train", per_class), ("val", 2)):
        for c in range(classes):
            d = os.path.join(root, split, "n%08d" % c)
            os.makedirs(d, exist_ok=True)
            for i in range(count):
                w, h = int(rng.integers(350, 501)), int(rng.integers(300, 376))
                picture(rng, w, h).save(os.path.join(d, "%s_%d_%d.JPEG" % (split, c, i)), quality=int(rng.integers(75, 96)))


if __name__ == "__main__":
    main()
