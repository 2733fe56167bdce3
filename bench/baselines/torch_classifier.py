"""PyTorch baseline for bench/training.bench.ts: Assay's kit classifier (src/ml/train/model.ts),
same layers, same optimiser (Adam, tfjs's defaults), same batch size, same crops, same seeded
epoch order (the bench passes it in), trained on the CPU.

Input: a folder with train_x.f32 (N·S·S·3 float32 NHWC, 0..1), train_y.i32 (N int32) and
order.i32 (epochs·N int32: the shuffled order of each epoch). Prints one JSON line with
per-epoch wall seconds, CPU seconds (process, all threads) and losses.

  python3 bench/baselines/torch_classifier.py DIR --size 64 --classes 6 --epochs 3 --batch 32 --threads 2
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import torch
from torch import nn


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def build(size, classes, filters, dense=64):
    layers, c, s = [], 3, size
    for f in filters:
        layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU()]
        if s >= 2:
            layers.append(nn.MaxPool2d(2, 2))
            s //= 2
        c = f
    layers += [nn.Flatten(), nn.Linear(c * s * s, dense), nn.ReLU(), nn.Linear(dense, classes)]
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dir')
    p.add_argument('--size', type=int, default=64)
    p.add_argument('--classes', type=int, required=True)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--lr', type=float, default=0.001)
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--filters', default='16,32,32')
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    s = a.size
    x = np.fromfile(os.path.join(a.dir, 'train_x.f32'), dtype=np.float32)
    y = np.fromfile(os.path.join(a.dir, 'train_y.i32'), dtype=np.int32)
    n = y.shape[0]
    order = np.fromfile(os.path.join(a.dir, 'order.i32'), dtype=np.int32).reshape(-1, n)
    # NCHW is PyTorch's native layout; converting once up front is what a PyTorch user would do.
    xs = torch.from_numpy(x.reshape(n, s, s, 3)).permute(0, 3, 1, 2).contiguous()
    ys = torch.from_numpy(y.astype(np.int64))
    model = build(s, a.classes, [int(v) for v in a.filters.split(',')])
    # tfjs's Adam defaults: beta1 0.9, beta2 0.999, epsilon 1e-7.
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    epochs = []
    for e in range(a.epochs):
        idx = torch.from_numpy(order[e % order.shape[0]].astype(np.int64))
        t0, c0 = time.perf_counter(), cpu_seconds()
        total = 0.0
        for start in range(0, n, a.batch):
            b = idx[start:start + a.batch]
            xb, yb = xs[b], ys[b]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        epochs.append({'seconds': time.perf_counter() - t0, 'cpuSeconds': cpu_seconds() - c0, 'loss': total / n})
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'images': n, 'epochs': epochs}))


if __name__ == '__main__':
    main()
