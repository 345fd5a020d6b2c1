"""loader_peer.py: torchvision's ImageFolder and DataLoader at the official training transforms
(RandomResizedCrop(224), RandomHorizontalFlip, ToTensor, Normalize), as LoaderThroughput reads
an image folder: one JSON line with images per second over the timed batches, after the warm-up
batches.

  python3 loader_peer.py DIR WORKERS [BATCH] [BATCHES] [WARMUP]
"""
import json
import statistics
import sys
import time

import torch
import torchvision.datasets as datasets
import torchvision.transforms as T


def main():
    root, workers = sys.argv[1], int(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    batches = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    warmup = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    transform = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    data = datasets.ImageFolder(root + "/train", transform)
    # workers=0 loads in the main process; a worker count of 1 or more is that many processes, as a training script runs them
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=workers, pin_memory=False, drop_last=True,
                                         persistent_workers=workers > 0)
    it = iter(loader)
    for _ in range(warmup):
        next(it)
    times = []
    start = last = time.perf_counter()
    for _ in range(batches):
        images, _ = next(it)
        assert images.shape[1:] == (3, 224, 224)
        now = time.perf_counter()
        times.append(now - last)
        last = now
    total = last - start
    print(json.dumps({"side": "torchvision", "workers": workers, "batch": batch, "images_per_second": round(batches * batch / total, 1),
                      "median_batch_seconds": round(statistics.median(times), 4)}))


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
