#!/usr/bin/env python3
"""The PyTorch side of benchmarks/compare-pytorch.sh and benchmarks/scaling.sh: the same networks,
paths, batch and threads as our SupernetStepBenchmark, SubnetEvaluationBenchmark and MemoryProbe,
timed and measured the same way.

The network is the official one as bnnas/src/test/python/official_net.py builds it (the module the
parity test checks ours against), in train mode for the training steps and eval mode with no
gradient for the forward. Random inputs and labels from a fixed seed; SGD with momentum 0.9 at lr
0.1 and label-smoothed (0.1) cross-entropy; a full step trains every parameter, a BN-only step
gamma and beta of each op's last BN (every op's, the fixed identity layers' included, as ours);
each step takes the next path of the bench list. A standalone step trains the standalone network
of the first bench path as our retraining does (weight decay 4e-5 on weights of rank above 1,
dropout before the classifier). Each figure is the median, over the cycles through the eight
paths that --steps (24, rounded up to whole cycles) makes, of the mean step time of a cycle, after
--warmup (3) unmeasured steps; as our JMH benchmark, whose invocations are whole cycles. On a GPU
each step ends with a synchronisation, so its time is the GPU's.

--spos adds the SPOS evaluation of one subnet with our CLI's defaults: every BN reset and
recalibrated as a cumulative average over 20 training batches of 256 (train mode, no gradient),
then top-1 over 10,000 validation images in batches of 256, from uint8 images normalised per
batch; the mean over --spos-subnets (5) paths after two unmeasured, the paths our
SubnetEvaluationBenchmark.sposAccuracy measures (the bench paths, from the third).

--memory MODE runs only MODE's step, --steps times, and reports the process's resident memory
before the first step and its peak (ru_maxrss).

--export-torchscript DIR times nothing: it writes the official network as TorchScript for the
libtorch peer (LibtorchStepBenchmark, in our JMH harness): DIR/supernet-SPACE.pt, the supernet
scripted with forward(x, arch: List[int]) so that one module and one set of weights serves every
path, and DIR/standalone-SPACE.pt, the standalone network of the first bench path, forward(x).
Both keep the official state-dict names; their weights are PyTorch's initialisation, which the
benchmark replaces with ours. Each is checked against the eager module before it is written.

Prints one JSON line.

  pytorch_peer.py --space bnnas/src/main/resources/spaces/bnnas-small.json
                  --archs bnnas/src/main/resources/spaces/bench-archs.json --batch 128 --threads 2
"""
import argparse
import json
import os
import resource
import sys
import time
from typing import List

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bnnas', 'src', 'test', 'python'))
import official_net  # noqa: E402


def rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--space', required=True)
    ap.add_argument('--archs', required=True)
    ap.add_argument('--batch', type=int, help='required, except with --export-torchscript')
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--device', default='cpu', help='cpu or cuda')
    ap.add_argument('--steps', type=int, default=24, help='timed steps, rounded up to whole cycles of the paths')
    ap.add_argument('--warmup', type=int, default=3, help='unmeasured steps before the timed ones')
    ap.add_argument('--modes', default='full,bnonly,eval,standalone', help='the steps to time, of full, bnonly, eval, standalone')
    ap.add_argument('--spos', action='store_true', help='also time the SPOS evaluation of a subnet')
    ap.add_argument('--spos-subnets', type=int, default=5)
    ap.add_argument('--memory', choices=['full', 'bnonly', 'eval', 'standalone'], help='measure the memory of this step only')
    ap.add_argument('--export-torchscript', metavar='DIR', help='write the supernet and the first path\'s standalone network as TorchScript into DIR, and time nothing')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    space = json.load(open(a.space))
    archs = json.load(open(a.archs))['archs']
    if a.export_torchscript:
        print(json.dumps(export_torchscript(space, archs, a.export_torchscript)))
        return
    if a.batch is None:
        ap.error('--batch is required')
    device = torch.device(a.device)
    if device.type == 'cuda':  # PyTorch's fastest deterministic-free setting, and no TF32, as our CUDA backend computes
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    channels, size = space['input']['channels'], space['input']['size']
    modes = [a.memory] if a.memory else a.modes.split(',')
    net = official_net.Network(space, 'supernet', None, channels).to(device) if set(modes) - {'standalone'} or a.spos else None
    standalone = official_net.Network(space, 'standalone', archs[0], channels).to(device) if 'standalone' in modes else None
    x = torch.randn(a.batch, channels, size, size, device=device)
    y = torch.randint(0, space['classes'], (a.batch,), device=device)
    rss_before = rss_mb()

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize()
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    turn = [0]

    def next_arch():
        arch = archs[turn[0] % len(archs)]
        turn[0] += 1
        return arch

    def median_ms(step, steps=a.steps, warm=a.warmup):
        """The median over whole cycles of the bench paths (or single steps, when fewer) of the mean step time."""
        cycle = len(archs) if steps >= len(archs) else 1
        steps = (steps + cycle - 1) // cycle * cycle
        times = []
        for i in range(steps + warm):
            sync()
            start = time.perf_counter()
            step()
            sync()
            if i >= warm:
                times.append(time.perf_counter() - start)
        means = sorted(sum(times[j:j + cycle]) / cycle for j in range(0, steps, cycle))
        return round(means[len(means) // 2] * 1e3, 2)

    def training(only_last_bn):
        last_bn = {id(p) for layer in net.features for op in layer._ops for p in (op.conv[-1].weight, op.conv[-1].bias)}
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

    def evaluation():
        net.eval()
        turn[0] = 0

        def forward():
            with torch.no_grad():
                net(x, next_arch())
        return median_ms(forward)

    def standalone_training():
        params = list(standalone.parameters())
        opt = torch.optim.SGD([{'params': [p for p in params if p.dim() > 1], 'weight_decay': 4e-5},
                               {'params': [p for p in params if p.dim() <= 1]}], lr=0.1, momentum=0.9)
        standalone.train()

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(standalone(x), y).backward()
            opt.step()
        return median_ms(step)

    steps = {'full': lambda: training(False), 'bnonly': lambda: training(True), 'eval': evaluation, 'standalone': standalone_training}
    keys = {'full': 'full_step_ms', 'bnonly': 'bnonly_step_ms', 'eval': 'eval_fwd_ms', 'standalone': 'standalone_step_ms'}
    result = {'peer': 'pytorch-' + torch.__version__, 'device': str(device), 'space': space['name'], 'batch': a.batch,
              'threads': torch.get_num_threads(), 'openblas_coretype': os.environ.get('OPENBLAS_CORETYPE', '')}
    for mode in modes:
        result[keys[mode]] = steps[mode]()
    if a.memory:
        result['mode'] = a.memory
        result['rss_before_mb'] = round(rss_before, 1)
        result['peak_rss_mb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if a.spos:
        result['spos_eval_ms'] = spos_evaluation(net, space, archs, a.spos_subnets, device)
    print(json.dumps(result))


class OfficialModules(nn.Module):
    """The official network's modules under their official names (so that state dicts match); subclasses add a forward."""

    def __init__(self, net):
        super().__init__()
        self.conv_bn = net.conv_bn
        self.MBConv_ratio_1 = net.MBConv_ratio_1
        self.features = net.features
        self.conv_1x1_bn = net.conv_1x1_bn
        self.classifier = net.classifier


class ScriptableSupernet(OfficialModules):
    """The official supernet's modules under their official names, with a forward TorchScript can compile.

    The official forward picks `layer._ops[op]` by a value known only at run time, which TorchScript
    cannot index a ModuleList by; here every layer's ops are unrolled at compile time and the one
    whose index equals the path's entry runs, so one module (one set of weights) serves every path.
    """

    def forward(self, x, arch: List[int]):
        x = self.MBConv_ratio_1(self.conv_bn(x))
        for i, layer in enumerate(self.features):
            op = arch[i]
            for j, block in enumerate(layer._ops):
                if op == j:
                    x = block(x)
        return self.classifier(self.conv_1x1_bn(x).mean((2, 3)))


class ScriptableStandalone(OfficialModules):
    """The official standalone network's modules under their official names, with a forward of x alone."""

    def forward(self, x):
        x = self.MBConv_ratio_1(self.conv_bn(x))
        for block in self.features:
            x = block(x)
        return self.classifier(self.conv_1x1_bn(x).mean((2, 3)))


def export_torchscript(space, archs, out_dir):
    """Scripts the official supernet and first-path standalone network, checks them against the eager modules, saves them."""
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    channels, size = space['input']['channels'], space['input']['size']
    supernet = official_net.Network(space, 'supernet', None, channels).eval()
    standalone = official_net.Network(space, 'standalone', archs[0], channels).eval()
    scripted_supernet = torch.jit.script(ScriptableSupernet(supernet)).eval()
    scripted_standalone = torch.jit.script(ScriptableStandalone(standalone)).eval()
    x = torch.randn(2, channels, size, size)
    worst = 0.0
    with torch.no_grad():
        pairs = [(supernet(x, arch), scripted_supernet(x, arch)) for arch in archs] + [(standalone(x), scripted_standalone(x))]
    for eager, scripted in pairs:
        diff = float((eager - scripted).abs().max()) / max(float(eager.abs().max()), 1e-30)
        worst = max(worst, diff)
        if diff > 1e-5:  # the same operations on the same weights: anything but rounding means the scripted forward is wrong
            raise SystemExit(f'export-torchscript: the scripted network differs from the eager one by {diff:.3g} of its largest logit')
    files = {}
    for kind, module in (('supernet', scripted_supernet), ('standalone', scripted_standalone)):
        module.train()  # the benchmark sets the mode it needs; PyTorch's own default
        files[kind] = os.path.join(out_dir, f"{kind}-{space['name']}.pt")
        module.save(files[kind])
    return {'peer': 'pytorch-' + torch.__version__, 'space': space['name'], 'supernet': files['supernet'],
            'standalone': files['standalone'], 'standalone_arch': archs[0], 'scripted_vs_eager_max_rel_diff': worst}


def spos_evaluation(net, space, archs, subnets, device, calibration_batches=20, batch=256, validation=10000):
    """Mean time of one subnet's SPOS evaluation: recalibrate every BN, then top-1 on the validation images."""
    g = torch.Generator().manual_seed(1)
    channels, size = space['input']['channels'], space['input']['size']
    train_images = torch.randint(0, 256, (calibration_batches * batch, channels, size, size), dtype=torch.uint8, generator=g)
    val_images = torch.randint(0, 256, (validation, channels, size, size), dtype=torch.uint8, generator=g)
    val_labels = torch.randint(0, space['classes'], (validation,), generator=g)
    mean, std = 0.2860, 0.3530  # Fashion-MNIST's, as our data set normalises
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    turn = [0]

    def evaluate():
        arch = archs[turn[0] % len(archs)]
        turn[0] += 1
        with torch.no_grad():
            for bn in bns:
                bn.reset_running_stats()
                bn.momentum = None
            net.train()
            for i in range(calibration_batches):
                net(((train_images[i * batch:(i + 1) * batch].to(device).float() / 255) - mean) / std, arch)
            for bn in bns:
                bn.momentum = 0.1
            net.eval()
            correct = 0
            for i in range(0, validation, batch):
                logits = net(((val_images[i:i + batch].to(device).float() / 255) - mean) / std, arch)
                correct += int((logits.argmax(1) == val_labels[i:i + batch].to(device)).sum())
        return correct / validation
    for _ in range(2):
        evaluate()
    start = time.perf_counter()
    for _ in range(subnets):
        evaluate()
    return round((time.perf_counter() - start) / subnets * 1e3, 2)


if __name__ == '__main__':
    main()
