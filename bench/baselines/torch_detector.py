"""PyTorch baseline for bench/detector-training.bench.ts: Assay's detector assay-det-v1
(src/ml/train/detector/model.ts) layer for layer, its loss (loss.ts: BCE on every anchor × class
with the detached-IoU quality target, GIoU on positives, both over max(1, positives), box weight
2.5), Adam with tfjs's defaults, the trainer's schedule (one warm-up epoch, cosine to 5 %), the
same batches (the trainer's seeded epoch order and flips) and the same initial weights, on the CPU.

Input: a folder written by the bench —
  meta.json    size, numClasses, count, anchors, widths, headWidth, epochs, batch, lr, boxWeight
  pixels.u8    count·S·S·3 bytes, HWC RGB letterboxed (÷255 is the network input)
  cls.f32      2·count·N·nc  class targets of each image, unflipped [0] and mirrored [1]
  box.f32      2·count·N·4   assigned boxes (x1, y1, x2, y2 in input pixels)
  fg.f32       2·count·N     positive anchors
  order.i32    epochs·count  the image at each position of each epoch
  flips.u8     epochs·count  whether that image is mirrored
  weights.f32  the initial kernels (HWIO) and biases in layer order, as buildDetector makes them
The targets are the ones the trainer's makeBatch computes (assign.ts), so PyTorch trains on the
same numbers; building them is not in PyTorch's timed loop (it is in Assay's: see the bench).

Prints one JSON line: parameter count, per-epoch wall seconds, CPU seconds (process, all
threads), mean batch loss.

  python3 bench/baselines/torch_detector.py DIR --threads 2
"""
import argparse
import json
import math
import os
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LEVEL_STRIDES = (8, 16)
EPS = 1e-7


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def layer_defs(nc, widths, head_width):
    """model.ts detectorLayers: (name, from, kernel, cin, cout, stride, relu)."""
    w0, w1, w2, w3 = widths
    out = 4 + nc
    return [
        ('c1', 'images', 3, 3, w0, 2, True),
        ('c2', 'c1', 3, w0, w1, 2, True),
        ('c3', 'c2', 3, w1, w1, 1, True),
        ('c4', 'c3', 3, w1, w2, 2, True),
        ('c5', 'c4', 3, w2, w2, 1, True),
        ('c6', 'c5', 3, w2, w3, 2, True),
        ('c7', 'c6', 3, w3, w3, 1, True),
        ('h8a', 'c5', 3, w2, head_width, 1, True),
        ('h8b', 'h8a', 1, head_width, out, 1, False),
        ('h16a', 'c7', 3, w3, head_width, 1, True),
        ('h16b', 'h16a', 1, head_width, out, 1, False),
    ]


class Detector(nn.Module):
    def __init__(self, nc, widths, head_width):
        super().__init__()
        self.defs = layer_defs(nc, widths, head_width)
        self.convs = nn.ModuleDict({name: nn.Conv2d(cin, cout, k, stride=s, padding=0 if s == 2 else k // 2)
                                    for name, _, k, cin, cout, s, _ in self.defs})
        self.out = 4 + nc

    def forward(self, x):
        outs = {'images': x}
        for name, src, k, _, _, s, relu in self.defs:
            h = outs[src]
            # tfjs 'same' at stride 2 on an even side pads 0 before and 1 after (PyTorch's padding=1
            # would pad 1 on both sides and shift the sampling grid).
            if s == 2:
                h = F.pad(h, (0, 1, 0, 1))
            h = self.convs[name](h)
            outs[name] = F.relu(h) if relu else h
        b = x.shape[0]
        # NCHW → [B, h·w, 4+nc], row-major like the tfjs reshape of NHWC.
        return torch.cat([outs[f'h{st}b'].permute(0, 2, 3, 1).reshape(b, -1, self.out) for st in LEVEL_STRIDES], 1)

    def load_tfjs(self, flat):
        off = 0
        with torch.no_grad():
            for name, _, k, cin, cout, _, _ in self.defs:
                conv = self.convs[name]
                n = k * k * cin * cout
                conv.weight.copy_(torch.from_numpy(flat[off:off + n].reshape(k, k, cin, cout)).permute(3, 2, 0, 1))
                off += n
                conv.bias.copy_(torch.from_numpy(flat[off:off + cout]))
                off += cout
        if off != flat.size:
            raise SystemExit(f'weights.f32 holds {flat.size} floats, the model {off}')


def anchor_points(size):
    xs, ys, ss = [], [], []
    for s in LEVEL_STRIDES:
        g = size // s
        gy, gx = torch.meshgrid(torch.arange(g, dtype=torch.float32), torch.arange(g, dtype=torch.float32), indexing='ij')
        xs.append(((gx + 0.5) * s).reshape(-1))
        ys.append(((gy + 0.5) * s).reshape(-1))
        ss.append(torch.full((g * g,), float(s)))
    return torch.cat(xs)[:, None], torch.cat(ys)[:, None], torch.cat(ss)[:, None]


def iou_and_giou(a, b):
    ax1, ay1, ax2, ay2 = a.unbind(-1)
    bx1, by1, bx2, by2 = b.unbind(-1)
    iw = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).relu()
    ih = (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).relu()
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter + EPS
    iou = inter / union
    hull = (torch.maximum(ax2, bx2) - torch.minimum(ax1, bx1)) * (torch.maximum(ay2, by2) - torch.minimum(ay1, by1)) + EPS
    return iou, iou - (hull - union) / hull


def detector_loss(raw, cls_t, box_t, fg, anchors, nc, box_weight):
    ax, ay, stride = anchors
    d = F.softplus(raw[..., :4]) * stride
    pred = torch.stack([ax - d[..., 0:1], ay - d[..., 1:2], ax + d[..., 2:3], ay + d[..., 3:4]], -1).squeeze(-2)
    norm = max(1.0, float(fg.sum()))
    iou, giou = iou_and_giou(pred, box_t)
    box = ((1 - giou) * fg).sum() / norm
    target = cls_t * iou.detach().clamp(0, 1).unsqueeze(2)
    cls = F.binary_cross_entropy_with_logits(raw[..., 4:4 + nc], target, reduction='sum') / norm
    return cls + box_weight * box


def learning_rate_at(step, total, warmup, base):
    """trainer.ts learningRateAt."""
    warm = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    progress = step / (total - 1) if total > 1 else 1.0
    return base * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dir')
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--epochs', type=int, help='default: meta.json epochs')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    meta = json.load(open(os.path.join(a.dir, 'meta.json')))
    s, n, nc, na, bs = meta['size'], meta['count'], meta['numClasses'], meta['anchors'], meta['batch']
    epochs = a.epochs or meta['epochs']
    rd = lambda name, dt: np.fromfile(os.path.join(a.dir, name), dtype=dt)
    # NCHW floats up front (PyTorch's native layout), as a PyTorch user would hold a small set.
    xs = torch.from_numpy(rd('pixels.u8', np.uint8).reshape(n, s, s, 3)).permute(0, 3, 1, 2).float().div_(255).contiguous()
    cls_all = torch.from_numpy(rd('cls.f32', np.float32).reshape(2, n, na, nc))
    box_all = torch.from_numpy(rd('box.f32', np.float32).reshape(2, n, na, 4))
    fg_all = torch.from_numpy(rd('fg.f32', np.float32).reshape(2, n, na))
    order = torch.from_numpy(rd('order.i32', np.int32).astype(np.int64).reshape(-1, n))
    flips = torch.from_numpy(rd('flips.u8', np.uint8).astype(np.int64).reshape(-1, n))
    anchors = anchor_points(s)
    if anchors[0].shape[0] != na:
        raise SystemExit(f'{anchors[0].shape[0]} anchor points at {s} px, the bench wrote {na}')

    model = Detector(nc, meta['widths'], meta['headWidth'])
    model.load_tfjs(rd('weights.f32', np.float32))
    params = sum(q.numel() for q in model.parameters())
    # tfjs's Adam defaults: beta1 0.9, beta2 0.999, epsilon 1e-7.
    opt = torch.optim.Adam(model.parameters(), lr=meta['lr'], betas=(0.9, 0.999), eps=1e-7)
    per_epoch = math.ceil(n / bs)
    total_steps = meta['epochs'] * per_epoch
    step = 0
    out = []
    for e in range(epochs):
        idx_e, flip_e = order[e % order.shape[0]], flips[e % flips.shape[0]]
        t0, c0 = time.perf_counter(), cpu_seconds()
        total = 0.0
        for start in range(0, n, bs):
            idx, f = idx_e[start:start + bs], flip_e[start:start + bs]
            xb = xs[idx]
            m = f.bool()
            if m.any():
                xb[m] = xb[m].flip(3)
            for g in opt.param_groups:
                g['lr'] = learning_rate_at(step, total_steps, per_epoch, meta['lr'])
            step += 1
            opt.zero_grad(set_to_none=True)
            loss = detector_loss(model(xb), cls_all[f, idx], box_all[f, idx], fg_all[f, idx], anchors, nc, meta['boxWeight'])
            loss.backward()
            opt.step()
            total += loss.item()
        out.append({'seconds': time.perf_counter() - t0, 'cpuSeconds': cpu_seconds() - c0, 'loss': total / per_epoch})
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'parameters': params, 'images': n, 'epochs': out}))


if __name__ == '__main__':
    main()
