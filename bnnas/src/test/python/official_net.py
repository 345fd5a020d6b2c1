#!/usr/bin/env python3
"""The official BN-NAS network in PyTorch, written from its published structure, for the parity test.

Module names and block rules are the official code's: conv_bn (3x3 conv, BN, ReLU6); MBConv_ratio_1,
an inverted residual of expand ratio 1; features, whose entries are, in the supernet, one per layer
holding every candidate op in `_ops` (the fixed identity layers included), and in a standalone
network one per non-identity layer; conv_1x1_bn; and the classifier (Linear in the supernet,
Dropout then Linear in a standalone network). Every inverted residual adds its input to its output
where its stride is 1 and its input and output channels are equal.

Safetensors files are read and written here directly (8-byte little-endian header length, JSON
header, raw little-endian data), so nothing beyond PyTorch is needed.

  official_net.py init    --space S --kind supernet|standalone --archs A[;A...] [--in-channels C] [--size S]
                          --seed N --out F
      random weights, random BN gammas and betas, and BN statistics estimated on random images
      (for a supernet, over the given paths), saved without metadata
  official_net.py forward --space S --kind supernet|standalone --archs A[;A...] --weights F
                          --input X --shape N,C,H,W --out Y
      loads F strictly, and writes the eval-mode logits of the batch X (float32, NCHW) for each
      architecture in turn to Y (float32)
  official_net.py proxies --space S --kind standalone --archs A --weights F --input X --shape N,C,H,W
                          --labels L1,L2,... --out J
      the training-free predictors of that network on that batch, as JSON: grad_norm, snip,
      jacob_cov, naswot, and synflow as its natural log, each from the published definition
"""
import argparse
import copy
import json
import math
import struct

import torch
import torch.nn as nn


def conv_bn_relu6(cin, cout, k, stride, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU6(inplace=True)]


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, kernel, expand, stride):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        if expand == 1:
            layers = conv_bn_relu6(cin, cin, kernel, stride, groups=cin)
        else:
            layers = conv_bn_relu6(cin, hidden, 1, 1) + conv_bn_relu6(hidden, hidden, kernel, stride, groups=hidden)
        layers += [nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        y = self.conv(x)
        return x + y if self.use_residual else y


class Choice(nn.Module):
    """One layer of the supernet: every candidate op, under the official name `_ops`."""

    def __init__(self, ops):
        super().__init__()
        self._ops = nn.ModuleList(ops)


def layers_of(space):
    """(index, in, out, stride, fixed identity) of every choice layer, as the space file lays them out."""
    out, c, fixed = [], space['stem']['mbconv_e1']['out'], set(space.get('fixed_identity_layers', []))
    for stage in space['stages']:
        for i in range(stage['layers']):
            out.append((len(out), c, stage['channels'], stage['stride'] if i == 0 else 1, len(out) in fixed))
            c = stage['channels']
    return out


class Network(nn.Module):
    def __init__(self, space, kind, arch, in_channels):
        super().__init__()
        stem, ops = space['stem'], space['ops']
        c1 = stem['conv3x3']['out']
        self.kind = kind
        self.conv_bn = nn.Sequential(*conv_bn_relu6(in_channels, c1, 3, stem['conv3x3']['stride']))
        self.MBConv_ratio_1 = InvertedResidual(c1, stem['mbconv_e1']['out'], stem['mbconv_e1']['kernel'], 1, 1)
        layers = layers_of(space)
        if kind == 'supernet':
            self.features = nn.ModuleList(
                Choice([InvertedResidual(cin, cout, op['kernel'], op['expand'], stride) for op in ops])
                for (_, cin, cout, stride, _) in layers)
        else:
            self.features = nn.ModuleList(
                InvertedResidual(cin, cout, ops[arch[i]]['kernel'], ops[arch[i]]['expand'], stride)
                for (i, cin, cout, stride, _) in layers if arch[i] >= 0)
        last, head = layers[-1][2], space['head']['conv1x1']
        self.conv_1x1_bn = nn.Sequential(*conv_bn_relu6(last, head, 1, 1))
        linear = nn.Linear(head, space['classes'])
        self.classifier = nn.Sequential(linear) if kind == 'supernet' else nn.Sequential(nn.Dropout(space['head'].get('dropout_retrain', 0.0)), linear)

    def forward(self, x, arch=None):
        x = self.MBConv_ratio_1(self.conv_bn(x))
        if self.kind == 'supernet':
            for layer, op in zip(self.features, arch):
                if op >= 0:
                    x = layer._ops[op](x)
        else:
            for block in self.features:
                x = block(x)
        return self.classifier(self.conv_1x1_bn(x).mean((2, 3)))


DTYPES = {'F32': (torch.float32, 4), 'I64': (torch.int64, 8)}


def save(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        dtype = {torch.float32: 'F32', torch.int64: 'I64'}[t.dtype]
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(',', ':')).encode()
    raw += b' ' * (-len(raw) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)) + raw + b''.join(blobs))


def load(path):
    with open(path, 'rb') as f:
        blob = f.read()
    n = struct.unpack('<Q', blob[:8])[0]
    header, base, out = json.loads(blob[8:8 + n]), 8 + n, {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        dtype, size = DTYPES[info['dtype']]
        start, end = info['data_offsets']
        flat = torch.frombuffer(bytearray(blob[base + start:base + end]), dtype=dtype) if end > start else torch.zeros(0, dtype=dtype)
        out[name] = flat.reshape(info['shape'])
    return out


def weights(net):
    return [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def proxies(net, x, labels):
    """The predictors in training mode with dropout off, as the published implementations compute them."""
    out = {}
    net.train()
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    state = {k: v.clone() for k, v in net.state_dict().items()}  # each predictor starts from the same BN statistics

    net.zero_grad()
    nn.functional.cross_entropy(net(x), labels).backward()
    out['grad_norm'] = sum(float(w.grad.norm()) for w in weights(net))
    out['snip'] = sum(float((w * w.grad).abs().sum()) for w in weights(net))

    net.load_state_dict(state)
    net.zero_grad()
    xg = x.clone().requires_grad_(True)
    net(xg).sum().backward()
    j = xg.grad.reshape(x.shape[0], -1).double()
    v = torch.linalg.eigvalsh(torch.corrcoef(j))
    k = 1e-5
    out['jacob_cov'] = float(-torch.sum(torch.log(v + k) + 1.0 / (v + k)))

    net.load_state_dict(state)
    codes = []
    hooks = [m.register_forward_hook(lambda mod, inp, o: codes.append((o.detach() > 0).reshape(o.shape[0], -1).double()))
             for m in net.modules() if isinstance(m, nn.ReLU6)]
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    c = torch.cat(codes, 1)
    kmat = c @ c.t() + (1 - c) @ (1 - c).t()
    out['naswot'] = float(torch.slogdet(kmat)[1])

    # synflow on the linear envelope, in float64: |weights|, no BN, ReLU6 as the identity, no classifier bias, one input of ones
    env = copy.deepcopy(net).double()
    for name, m in list(env.named_modules()):
        for child_name, child in list(m.named_children()):
            if isinstance(child, (nn.BatchNorm2d, nn.ReLU6, nn.Dropout)):
                setattr(m, child_name, nn.Identity())
    with torch.no_grad():
        for w in weights(env):
            w.abs_()
        for m in env.modules():
            if isinstance(m, nn.Linear):
                m.bias.zero_()
    env.zero_grad()
    env(torch.ones((1,) + tuple(x.shape[1:]), dtype=torch.float64)).sum().backward()
    out['synflow'] = math.log(sum(float((w * w.grad).abs().sum()) for w in weights(env)))
    return out


def parse_arch(text):
    return [int(v) for v in text.split(',')]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('command', choices=['init', 'forward', 'proxies'])
    ap.add_argument('--labels')
    ap.add_argument('--space', required=True)
    ap.add_argument('--kind', choices=['supernet', 'standalone'], required=True)
    ap.add_argument('--arch', help='a standalone network\'s architecture: op index per layer, -1 for identity')
    ap.add_argument('--archs', help='architectures to run, separated by ;')
    ap.add_argument('--in-channels', type=int)
    ap.add_argument('--size', type=int, help='image size for estimating BN statistics (default: the space\'s)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--weights')
    ap.add_argument('--input')
    ap.add_argument('--shape')
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    space = json.load(open(a.space))
    torch.set_num_threads(1)
    archs = [parse_arch(t) for t in a.archs.split(';')] if a.archs else []
    arch = parse_arch(a.arch) if a.arch else (archs[0] if archs else None)
    in_channels = a.in_channels or space['input']['channels']
    if a.command == 'forward' and a.shape:
        in_channels = int(a.shape.split(',')[1])
    torch.manual_seed(a.seed)
    net = Network(space, a.kind, arch, in_channels)
    if a.command == 'init':
        # Statistics estimated on data (not the 0/1 of a fresh BN, under which activations blow up
        # and every input gives the same logits), after gamma and beta are drawn.
        bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
        with torch.no_grad():
            for m in bns:
                m.weight.uniform_(0.7, 1.3)
                m.bias.uniform_(-0.2, 0.2)
                m.momentum = None  # a cumulative average over the batches below
            net.train()
            size = a.size or space['input']['size']
            for p in (archs if a.kind == 'supernet' else [None]):
                net(torch.randn(8, in_channels, size, size), p)
            for m in bns:
                m.momentum = 0.1
        save(a.out, net.state_dict())
        return
    net.load_state_dict(load(a.weights), strict=True)
    shape = [int(v) for v in a.shape.split(',')]
    with open(a.input, 'rb') as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(shape)
    if a.command == 'proxies':
        labels = torch.tensor([int(v) for v in a.labels.split(',')])
        with open(a.out, 'w') as f:
            json.dump(proxies(net, x, labels), f)
        return
    net.eval()
    with torch.no_grad():
        logits = [net(x, p) for p in archs] if a.kind == 'supernet' else [net(x)]
    with open(a.out, 'wb') as f:
        f.write(torch.cat(logits).numpy().astype('<f4').tobytes())


if __name__ == '__main__':
    main()
