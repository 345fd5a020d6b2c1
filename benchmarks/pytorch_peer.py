#!/usr/bin/env python3
"""The PyTorch side of benchmarks/compare-pytorch.sh: the same supernet, paths, batch and threads as
our SupernetStepBenchmark, timed the same way.

The network is the official one as bnnas/src/test/python/official_net.py builds it (the module the
parity test checks ours against), in train mode for the training steps and eval mode with no
gradient for the forward. Random inputs and labels from a fixed seed; SGD with momentum 0.9 at lr
0.1 and label-smoothed (0.1) cross-entropy; a full step trains every parameter, a BN-only step
gamma and beta of each op's last BN (every op's, the fixed identity layers' included, as ours);
each step takes the next path of the bench list. Each figure is the median of --steps steps after
three unmeasured ones (on a GPU each step ends with a synchronisation, so its time is the GPU's).
Prints one JSON line.

  pytorch_peer.py --space bnnas/src/main/resources/spaces/bnnas-small.json
                  --archs bnnas/src/main/resources/spaces/bench-archs.json --batch 128 --threads 2
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bnnas', 'src', 'test', 'python'))
import official_net  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--space', required=True)
    ap.add_argument('--archs', required=True)
    ap.add_argument('--batch', type=int, required=True)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--device', default='cpu', help='cpu or cuda')
    ap.add_argument('--steps', type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    space = json.load(open(a.space))
    archs = json.load(open(a.archs))['archs']
    device = torch.device(a.device)
    if device.type == 'cuda':  # PyTorch's fastest deterministic-free setting, and no TF32, as our CUDA backend computes
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    channels, size = space['input']['channels'], space['input']['size']
    net = official_net.Network(space, 'supernet', None, channels).to(device)
    x = torch.randn(a.batch, channels, size, size, device=device)
    y = torch.randint(0, space['classes'], (a.batch,), device=device)

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize()
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    last_bn = {id(p) for layer in net.features for op in layer._ops for p in (op.conv[-1].weight, op.conv[-1].bias)}
    turn = [0]

    def next_arch():
        arch = archs[turn[0] % len(archs)]
        turn[0] += 1
        return arch

    def median_ms(step):
        times = []
        for i in range(a.steps + 3):
            sync()
            start = time.perf_counter()
            step()
            sync()
            if i >= 3:
                times.append(time.perf_counter() - start)
        times.sort()
        return round(times[len(times) // 2] * 1e3, 2)

    def training(only_last_bn):
        for p in net.parameters():
            p.requires_grad_(not only_last_bn or id(p) in last_bn)
        opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
        net.train()
        turn[0] = 0

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(net(x, next_arch()), y).backward()
            opt.step()
        return median_ms(step)

    full = training(False)
    bn_only = training(True)
    net.eval()
    turn[0] = 0

    def forward():
        with torch.no_grad():
            net(x, next_arch())
    evaluation = median_ms(forward)
    print(json.dumps({'peer': 'pytorch-' + torch.__version__, 'device': str(device), 'space': space['name'], 'batch': a.batch,
                      'threads': torch.get_num_threads(),
                      'openblas_coretype': os.environ.get('OPENBLAS_CORETYPE', ''), 'full_step_ms': full, 'bnonly_step_ms': bn_only,
                      'eval_fwd_ms': evaluation}))


if __name__ == '__main__':
    main()
