"""torchvision_transforms.py: what torchvision 0.14 and PIL make of a few images, for the Java test
of ImageDecoder and ImageTransforms to compare with.

  python3 torchvision_transforms.py OUT_DIR

writes into OUT_DIR images of several kinds (RGB JPEGs, baseline and progressive, with 4:2:0, 4:2:2
and 4:4:4 chroma; grayscale and CMYK JPEGs; RGB, palette and RGBA PNGs), each one's decoded RGB bytes as the ImageFolder loader gives them
(Image.open(f).convert("RGB")), the evaluation transform's bytes (Resize(256), CenterCrop(224)),
resized_crop's bytes at given boxes, RandomResizedCrop.get_params's boxes for given uniform draws,
and manifest.json naming them all. Raw files hold height x width x 3 bytes.
"""
import json
import math
import os
import sys
from unittest import mock

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image


def picture(w, h, seed):
    """Smooth colour gradients with a little noise: photo-like enough to exercise the resampler."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 3 % 256)], axis=-1).astype(np.int32)
    img += rng.integers(-20, 21, size=img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def raw(img, path):
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    arr.tofile(path)
    return {"file": os.path.basename(path), "width": img.width, "height": img.height}


def boxes_for(draws, w, h):
    """get_params with every torch draw taken from `draws` in order: a + (b - a) u for uniform_, lo + floor((hi - lo) u) for randint
    (in double; torchvision's own log-ratio bounds are float32)."""
    it = iter(draws)

    class Uniform:
        def uniform_(self, a, b):  # the log-ratio bounds come as float32 tensors; the arithmetic here is double
            a, b = float(a), float(b)
            return torch.tensor([a + (b - a) * next(it)], dtype=torch.float64)

    def randint(lo, hi, size):
        return torch.tensor([lo + math.floor((hi - lo) * next(it))])

    img = Image.new("RGB", (w, h))
    with mock.patch("torch.empty", lambda *a, **k: Uniform()), mock.patch("torch.randint", randint):
        return list(T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3.0 / 4.0, 4.0 / 3.0)))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = {"images": [], "params": []}
    pictures = [("rgb-400x350.jpg", 400, 350, {}), ("rgb-300x500.png", 300, 500, {}), ("rgb-257x256.jpg", 257, 256, {"quality": 95}),
                ("rgb-640x427.jpg", 640, 427, {"quality": 75}),
                ("progressive-333x222.jpg", 333, 222, {"progressive": True}), ("444-210x190.jpg", 210, 190, {"subsampling": 0}),
                ("422-190x210.jpg", 190, 210, {"subsampling": 1}), ("gray-320x240.jpg", 320, 240, {}), ("cmyk-200x300.jpg", 200, 300, {}),
                ("palette-260x300.png", 260, 300, {}), ("rgba-301x299.png", 301, 299, {})]
    for i, (name, w, h, opts) in enumerate(pictures):
        img = picture(w, h, i)
        if name.startswith("gray"):
            img = img.convert("L")
        elif name.startswith("cmyk"):
            img = img.convert("CMYK")
        elif name.startswith("palette"):
            img = img.convert("P", palette=Image.ADAPTIVE, colors=64)
        elif name.startswith("rgba"):
            img = img.convert("RGBA")
            img.putalpha(128)
        img.save(os.path.join(out, name), **opts)
        loaded = Image.open(os.path.join(out, name)).convert("RGB")  # what ImageFolder's loader gives
        entry = {"name": name, "decoded": raw(loaded, os.path.join(out, name + ".rgb"))}
        evaled = T.CenterCrop(224)(T.Resize(256)(loaded))
        entry["eval"] = raw(evaled, os.path.join(out, name + ".eval.rgb"))
        entry["crops"] = []
        for k, (top, left, ch, cw) in enumerate([(0, 0, h, w), (h // 5, w // 7, h // 2, w // 3), (1, 2, 37, 61)]):
            cropped = F.resized_crop(loaded, top, left, ch, cw, [224, 224])
            e = raw(cropped, os.path.join(out, "%s.crop%d.rgb" % (name, k)))
            e["box"] = [top, left, ch, cw]
            entry["crops"].append(e)
        entry["flipped"] = raw(F.hflip(loaded), os.path.join(out, name + ".flip.rgb"))
        manifest["images"].append(entry)
    rng = np.random.default_rng(7)
    for w, h in [(400, 350), (50, 500), (500, 40), (7, 9), (224, 224)]:
        for _ in range(20):
            draws = [float(u) for u in rng.random(40)]
            manifest["params"].append({"width": w, "height": h, "draws": draws, "box": boxes_for(draws, w, h)})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)


if __name__ == "__main__":
    main()
