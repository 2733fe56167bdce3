"""Baseline for bench/detect-eval.bench.ts: the reference pipeline of
test/fixtures/detect-eval/case_public/README.md in Python (Pillow decode, numpy letterbox,
onnxruntime, numpy decode, torchvision.ops.nms, pycocotools COCOeval). Where torchvision does not
load, a numpy greedy NMS stands in (the case README found it keeps exactly the same boxes); the
first line printed says which one ran.

Usage: python3 detect_eval.py CASE_DIR
Reads one line per run from stdin ("run"), answers one JSON line per run with the timing and
results, so the benchmark can alternate Assay and Python runs without paying Python's imports
each time. Ground truth is parsed once, as the Assay side gets it parsed.
"""
import ast
import contextlib
import io
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

CONF, IOU, MAX_NMS, MAX_DET, MAX_WH = 0.001, 0.7, 30000, 300, 7680

try:
    import torch
    import torchvision

    def nms(boxes, scores, iou):
        return torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou).numpy()

    NMS = f"torchvision.ops.nms (torchvision {torchvision.__version__})"
except Exception as e:  # ImportError, or a torchvision build whose C++ ops do not load
    def nms(boxes, scores, iou):
        x1, y1, x2, y2 = boxes.T
        areas = (x2 - x1) * (y2 - y1)
        order = np.argsort(-scores, kind="stable")
        keep = []
        while order.size:
            i, rest = order[0], order[1:]
            keep.append(i)
            w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
            h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
            inter = w * h
            order = rest[~(inter / (areas[i] + areas[rest] - inter) > iou)]
        return np.array(keep, dtype=np.int64)

    NMS = f"numpy greedy NMS (torchvision unavailable: {type(e).__name__}: {str(e).splitlines()[0][:120]})"


def letterbox(img, H, W):
    h, w = img.shape[:2]
    r = min(H / h, W / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    if (nw, nh) != (w, h):
        img = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    dw, dh = (W - nw) / 2, (H - nh) / 2
    left, top = int(round(dw - 0.1)), int(round(dh - 0.1))
    canvas = np.full((H, W, 3), 114, dtype=np.uint8)
    canvas[top:top + nh, left:left + nw] = img
    return canvas, r, left, top


def decode(out, nc):
    x = out[0].T  # [N, 4+nc]
    scores = x[:, 4:]
    a, c = np.nonzero(scores > CONF)  # anchor-major, class-minor
    s = scores[a, c]
    if len(s) > MAX_NMS:
        keep = np.argsort(-s, kind="stable")[:MAX_NMS]
        keep.sort()
        a, c, s = a[keep], c[keep], s[keep]
    b = x[a, :4].astype(np.float64)
    boxes = np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], 1)
    keep = nms(boxes + c[:, None] * MAX_WH, s.astype(np.float64), IOU)[:MAX_DET]
    return boxes[keep], s[keep], c[keep]


def evaluate(case, gt, model_bytes):
    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    inp, outp = sess.get_inputs()[0], sess.get_outputs()[0]
    H, W = inp.shape[2], inp.shape[3]
    meta = sess.get_modelmeta().custom_metadata_map
    names = ast.literal_eval(meta["names"])
    cat_of = {c["name"]: c["id"] for c in gt.dataset["categories"]}
    results = []
    for im in gt.dataset["images"]:
        img = np.asarray(Image.open(os.path.join(case, "dataset", im["file_name"])).convert("RGB"))
        h, w = img.shape[:2]
        canvas, r, left, top = letterbox(img, H, W)
        tensor = (canvas / 255).astype(np.float32).transpose(2, 0, 1)[None]
        out = sess.run([outp.name], {inp.name: np.ascontiguousarray(tensor)})[0]
        boxes, scores, classes = decode(out, len(names))
        boxes = boxes.copy()
        boxes[:, [0, 2]] = ((boxes[:, [0, 2]] - left) / r).clip(0, w)
        boxes[:, [1, 3]] = ((boxes[:, [1, 3]] - top) / r).clip(0, h)
        for (x1, y1, x2, y2), s, c in zip(boxes.tolist(), scores.tolist(), classes.tolist()):
            results.append({"image_id": im["id"], "category_id": cat_of[names[c]], "bbox": [x1, y1, x2 - x1, y2 - y1], "score": s})
    with contextlib.redirect_stdout(io.StringIO()):
        E = COCOeval(gt, gt.loadRes(results), "bbox")
        E.evaluate()
        E.accumulate()
        E.summarize()
    return results, E.stats


def main():
    case = sys.argv[1]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(os.path.join(case, "dataset", "coco.json"))
    with open(os.path.join(case, "model.onnx"), "rb") as f:
        model_bytes = f.read()
    print(json.dumps({"ready": True, "nms": NMS, "onnxruntime": ort.__version__, "numpy": np.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = time.perf_counter()
        results, stats = evaluate(case, gt, model_bytes)
        seconds = time.perf_counter() - t0
        print(json.dumps({"seconds": seconds, "detections": len(results), "AP": stats[0], "AP50": stats[1]}), flush=True)


if __name__ == "__main__":
    main()
