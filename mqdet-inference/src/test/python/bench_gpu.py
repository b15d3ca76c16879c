"""Images/s of the shipped TorchScript detector on a CUDA GPU, at batch 1, 4, 8, 16 and 32: the GPU figures beside
the CPU ones. Needs only Python with torch (a GPU machine here has no JDK); reads model.json for the input shapes.
Inputs are synthetic tensors of the contract's shapes (images normal noise, K categories with text and 5 exemplars):
the forward's cost does not depend on the values. Decode and post-processing are not included. Prints JSON.

python3 mqdet-inference/src/test/python/bench_gpu.py [--model models/mqdet-synth-v1] [--categories 22]
        [--batches 1,4,8,16,32] [--seconds 3] [--device cuda]
"""
import argparse
import json
import os
import time

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(ROOT, "models", "mqdet-synth-v1"))
    p.add_argument("--categories", type=int, default=22)
    p.add_argument("--batches", default="1,4,8,16,32")
    p.add_argument("--seconds", type=float, default=3.0, help="measured time per batch size, after warm-up")
    p.add_argument("--device", default="cuda")
    a = p.parse_args()
    meta = json.load(open(os.path.join(a.model, "model.json")))
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run this on a GPU machine (or --device cpu)")
    det = torch.jit.load(os.path.join(a.model, meta["files"]["detector"]), map_location=device).eval()
    size = meta["image"]["height"]
    k, length = a.categories, meta["text"]["max_tokens"]
    exemplars, dim = meta["exemplars"]["recommended_exemplars_per_category"], meta["exemplars"]["feature_dim"]
    g = torch.Generator().manual_seed(0)
    token_ids = torch.randint(3, 50, (k, length), generator=g).to(device)
    token_mask = torch.ones(k, length, dtype=torch.long, device=device)
    feats = torch.randn(k, exemplars, dim, generator=g).to(device)
    feat_mask = torch.ones(k, exemplars, dtype=torch.long, device=device)
    out = {}
    with torch.no_grad():
        for b in [int(v) for v in a.batches.split(",")]:
            images = torch.randn(b, 3, size, size, generator=g).to(device)
            for _ in range(10):  # warm-up: kernels chosen, memory pools filled
                det(images, token_ids, token_mask, feats, feat_mask)
            sync(device)
            n, started = 0, time.perf_counter()
            while time.perf_counter() - started < a.seconds:
                det(images, token_ids, token_mask, feats, feat_mask)
                n += 1
            sync(device)
            out[str(b)] = round(n * b / (time.perf_counter() - started), 1)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(json.dumps({"device": name, "torch": torch.__version__, "model": meta["name"], "categories": k,
                      "images_per_second": out}))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


if __name__ == "__main__":
    main()
