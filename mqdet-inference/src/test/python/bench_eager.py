"""Throughput of the eager PyTorch model (the nn.Module, not TorchScript) on the held-out scenes, for the
Java benchmark's ratio (ModelBenchmark --python-eager). Same query set as the Java side: every evaluated
category, text + 5 exemplars. Same images, decoded and letterboxed before the clock starts. Prints JSON.

/usr/bin/python3 mqdet-inference/src/test/python/bench_eager.py [--images 64] [--batches 1,4,8,16] [--threads 2]
"""
import argparse
import json
import os
import sys
import time

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training"))
from mqdet import train as T  # noqa: E402
from mqdet.evaluate import Package, exemplar_bank, load_image, mode_inputs  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(ROOT, "models", "mqdet-synth-v1"))
    p.add_argument("--eval-set", default=os.path.join(ROOT, "models", "synth-eval"))
    p.add_argument("--images", type=int, default=64)
    p.add_argument("--batches", default="1,4,8,16")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    pkg = Package(a.model)
    _, _, tok = T.setup(T.DEFAULT)
    eager = T.new_model(T.DEFAULT, tok).eval()
    # the same weights as the shipped TorchScript: a format-2 package wraps the model as its `inner` module
    scripted = torch.jit.load(os.path.join(a.model, "detector.pt"))
    eager.load_state_dict((scripted.inner if hasattr(scripted, "inner") else scripted).state_dict())
    doc = json.load(open(os.path.join(a.eval_set, "annotations.json")))
    cats = [c for c in doc["categories"] if c.get("evaluate")]
    ids = [c["id"] for c in cats]
    ex, em = exemplar_bank(pkg.enc, doc, a.eval_set, ids, 5)
    tid, tm, exm, emm = mode_inputs("multimodal", pkg.tok, [c["name"] for c in cats], pkg.meta["text"]["max_tokens"],
                                    ex, em, pkg.meta["text"]["vision_only_mask_tokens"])
    files = [im["file_name"] for im in doc["images"]]
    xs = torch.stack([load_image(os.path.join(a.eval_set, files[i % len(files)]))[0] for i in range(a.images)])
    out = {}
    with torch.no_grad():
        for b in [int(v) for v in a.batches.split(",")]:
            for s in range(0, min(2 * b, a.images), b):
                eager(xs[s:s + b], tid, tm, exm, emm)
            t = time.perf_counter()
            for s in range(0, a.images, b):
                eager(xs[s:s + b], tid, tm, exm, emm)
            out[str(b)] = round(a.images / (time.perf_counter() - t), 2)
    print(json.dumps({"eager_images_per_second": out, "categories": len(ids), "threads": a.threads}))


if __name__ == "__main__":
    main()
