"""Writes the raw-output parity fixture for the Java tests (RawOutputParityTest).

Ten fixed inputs: the first ten held-out scenes, each with every evaluated category, in the three query
modes (text, vision, multimodal) in turn. For each, the TorchScript detector's raw outputs are computed here
by PyTorch and sampled (boxes and logits at fixed positions, plus the maxima); the exemplar encoder's output
is sampled too, and the Python evaluator's AP table is stored beside them. Java recomputes them through DJL and must agree within 1e-4.

Run after every retrain:  /usr/bin/python3 mqdet-inference/src/test/python/make_parity_fixture.py
"""
import hashlib
import json
import os
import random
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training"))
from mqdet.evaluate import Package, exemplar_bank, load_image, mode_inputs, run_eval  # noqa: E402

MODEL = os.path.join(ROOT, "models", "mqdet-synth-v1")
EVAL = os.path.join(ROOT, "models", "synth-eval")
OUT = os.path.join(ROOT, "mqdet-inference", "src", "test", "resources", "parity", "fixture.json")


def main():
    torch.set_num_threads(2)
    pkg = Package(MODEL)
    doc = json.load(open(os.path.join(EVAL, "annotations.json")))
    cats = [c for c in doc["categories"] if c.get("evaluate")]
    ids = [c["id"] for c in cats]
    names = [c["name"] for c in cats]
    L = pkg.meta["text"]["max_tokens"]
    ex, em = exemplar_bank(pkg.enc, doc, EVAL, ids, 5)
    rng = random.Random(7)
    cases = []
    modes = ["text", "vision", "multimodal"]
    with torch.no_grad():
        for i in range(10):
            mode = modes[i % 3]
            image = doc["images"][i]
            x, _ = load_image(os.path.join(EVAL, image["file_name"]))
            tid, tm, exm, emm = mode_inputs(mode, pkg.tok, names, L, ex, em, pkg.meta["text"]["vision_only_mask_tokens"])
            out = pkg.det(x.unsqueeze(0), tid, tm, exm, emm)
            boxes, logits = out[0], out[1]  # box embeddings, where the package has them, follow
            N, K = logits.shape[1], logits.shape[2]
            positions = [(rng.randrange(N), rng.randrange(K)) for _ in range(100)]
            anchors = [rng.randrange(N) for _ in range(50)]
            cases.append({
                "image": image["file_name"], "mode": mode,
                "logits_shape": list(logits.shape), "boxes_shape": list(boxes.shape),
                "logits": [[n, k, float(logits[0, n, k])] for n, k in positions],
                "boxes": [[n] + [float(v) for v in boxes[0, n]] for n in anchors],
                "logit_max": float(logits.max()), "box_sum": float(boxes.sum()),
            })
    feats = [[k, e, d, float(ex[k, e, d])] for k, e, d in
             [(rng.randrange(ex.shape[0]), rng.randrange(5), rng.randrange(ex.shape[2])) for _ in range(100)] if em[k, e] == 1]
    python_eval = run_eval(MODEL, EVAL)["splits"]
    digest = hashlib.sha256(open(os.path.join(MODEL, "detector.pt"), "rb").read()).hexdigest()
    json.dump({"detector_sha256": digest, "categories": ids, "cases": cases, "exemplar_features": feats,
               "python_eval": python_eval},
              open(OUT, "w"), indent=0)
    print(f"wrote {OUT}: {len(cases)} cases, {len(feats)} exemplar feature samples")


if __name__ == "__main__":
    main()
