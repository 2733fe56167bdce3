"""pycocotools baseline for bench/coco-eval.bench.ts: the same bbox evaluation on the same
ground truth and detections. Timed from already-parsed JSON (index building, evaluate, accumulate,
summarize), like Assay's evaluateCoco(gt, dets) on parsed objects; JSON parsing is not timed on
either side. Prints one JSON line: the seconds and the 12 stats.

  python3 bench/baselines/pycocotools_eval.py GT.json DETS.json
"""
import contextlib
import io
import json
import sys
import time

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def main():
    with open(sys.argv[1]) as f:
        gt = json.load(f)
    with open(sys.argv[2]) as f:
        dets = json.load(f)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        dt = coco.loadRes(dets)
        e = COCOeval(coco, dt, 'bbox')
        e.evaluate()
        e.accumulate()
        e.summarize()
    seconds = time.perf_counter() - t0
    print(json.dumps({'seconds': seconds, 'stats': [float(v) for v in e.stats]}))


if __name__ == '__main__':
    main()
