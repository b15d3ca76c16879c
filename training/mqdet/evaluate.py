"""Evaluation of a model package (TorchScript files + tokenizer + model.json) on the on-disk
held-out set, in the three query modes."""
import json
import os

import numpy as np
import torch
from PIL import Image

from . import coco_eval
from .data import letterbox, to_tensor
from .tokenizer import Tokenizer

MODES = ["text", "vision", "multimodal"]
SPLITS = ["common", "rare", "ambiguous"]


def nms(boxes, scores, iou):
    """Greedy NMS (xyxy); returns kept indices in descending score order."""
    order = torch.argsort(scores, descending=True)
    keep = []
    areas = (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool)
    for ii in range(len(order)):
        i = order[ii]
        if suppressed[i]:
            continue
        keep.append(int(i))
        rest = order[ii + 1:]
        if len(rest) == 0:
            break
        x0 = torch.max(boxes[i, 0], boxes[rest, 0]); y0 = torch.max(boxes[i, 1], boxes[rest, 1])
        x1 = torch.min(boxes[i, 2], boxes[rest, 2]); y1 = torch.min(boxes[i, 3], boxes[rest, 3])
        inter = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
        ov = inter / (areas[i] + areas[rest] - inter).clamp(min=1e-9)
        suppressed[rest[ov > iou]] = True
    return keep


def postprocess(boxes, logits, scale, wh, cat_ids, pp):
    """boxes [N,4], logits [N,K] of one image -> list of COCO detections (image_id filled later)."""
    out = []
    scores = torch.sigmoid(logits)
    b = boxes / scale
    b[:, 0::2] = b[:, 0::2].clamp(0, wh[0]); b[:, 1::2] = b[:, 1::2].clamp(0, wh[1])
    for k, cid in enumerate(cat_ids):
        s = scores[:, k]
        cand = torch.nonzero(s > pp["score_threshold"]).flatten()
        if len(cand) == 0:
            continue
        cand = cand[torch.argsort(s[cand], descending=True)[:pp["pre_nms_top_k"]]]
        keep = nms(b[cand], s[cand], pp["nms_iou"])[:pp["max_detections_per_image_and_category"]]
        for j in keep:
            i = cand[j]
            x0, y0, x1, y1 = b[i].tolist()
            out.append(dict(category_id=cid, bbox=[x0, y0, x1 - x0, y1 - y0], score=float(s[i])))
    return out


class Package:
    def __init__(self, d):
        with open(os.path.join(d, "model.json")) as f:
            self.meta = json.load(f)
        self.det = torch.jit.load(os.path.join(d, "detector.pt")).eval()
        self.enc = torch.jit.load(os.path.join(d, "exemplar_encoder.pt")).eval()
        self.tok = Tokenizer.load(os.path.join(d, "tokenizer.json"))
        if self.meta.get("format_version") == 2:
            self._format_1_view()

    def _format_1_view(self):
        """A format-1 model re-exported in format 2 (training/rewrap_v1_as_v2.py): per-category rows on a fixed
        letterbox, so the evaluation's format-1 calls map onto the format-2 signature directly."""
        text = self.meta["text"]
        if text["prompt_mode"] != "per-category" or self.meta["image"]["resize"] != "letterbox":
            raise SystemExit("this evaluator reads format-2 packages of per-category letterbox models only")
        text["vision_only_mask_tokens"] = len(text["vision_only_name"].split())
        det, enc = self.det, self.enc

        def sizes(x):
            return torch.tensor([[x.shape[2], x.shape[3]]] * x.shape[0], dtype=torch.long)

        self.det = lambda x, ids, tm, ex, em: det(x, sizes(x), ids, tm, torch.zeros(ids.shape[0], ids.shape[0], ids.shape[1]), ex, em)
        self.enc = lambda x, boxes: enc(x, sizes(x), boxes)


def load_image(path):
    arr, scale, _ = letterbox(Image.open(path))
    return to_tensor(arr), scale


@torch.no_grad()
def exemplar_bank(enc, doc, d, cat_ids, E):
    """-> feats [K,E,D], mask [K,E] from the eval set's exemplar list (first E per category)."""
    per_img = {}
    for ex in doc["exemplars"]:
        per_img.setdefault(ex["image_id"], []).append(ex)
    files = {im["id"]: im["file_name"] for im in doc["exemplar_images"]}
    feats = {}
    for iid, exs in sorted(per_img.items()):
        x, scale = load_image(os.path.join(d, files[iid]))
        bx = torch.tensor([[e["bbox"][0], e["bbox"][1], e["bbox"][0] + e["bbox"][2], e["bbox"][1] + e["bbox"][3]]
                           for e in exs], dtype=torch.float32) * scale
        f = enc(x.unsqueeze(0), bx)
        for e, v in zip(exs, f):
            feats.setdefault(e["category_id"], []).append((e["id"], v))
    D = next(iter(feats.values()))[0][1].shape[0]
    out = torch.zeros(len(cat_ids), E, D)
    mask = torch.zeros(len(cat_ids), E, dtype=torch.long)
    for k, c in enumerate(cat_ids):
        lst = sorted(feats.get(c, []), key=lambda t: t[0])[:E]
        for j, (_, v) in enumerate(lst):
            out[k, j] = v; mask[k, j] = 1
    return out, mask


def mode_inputs(mode, tok, names, L, ex, em, n_vis):
    ids, tm = zip(*[tok.encode(n, L) for n in names])
    ids, tm = torch.tensor(ids), torch.tensor(tm)
    if mode == "text":
        em = torch.zeros_like(em)
    elif mode == "vision":
        ids = torch.full_like(ids, tok.pad_id); tm = torch.zeros_like(tm)
        ids[:, :n_vis] = tok.mask_id; tm[:, :n_vis] = 1
    return ids, tm, ex, em


@torch.no_grad()
def run_eval(model_dir, eval_dir, shots=5, batch=8, modes=MODES, detector=None, log=None):
    """Returns {"splits": {split: {mode: {"ap", "ap50"}}}, "per_category": ...}.
    `detector` optionally replaces the TorchScript detector (e.g. an eager model)."""
    pkg = Package(model_dir)
    det = detector if detector is not None else pkg.det
    doc = json.load(open(os.path.join(eval_dir, "annotations.json")))
    cats = [c for c in doc["categories"] if c.get("evaluate")]
    cat_ids = [c["id"] for c in cats]
    names = [c["name"] for c in cats]
    L = pkg.meta["text"]["max_tokens"]
    ex, em = exemplar_bank(pkg.enc, doc, eval_dir, cat_ids, shots)
    pp = pkg.meta["postprocess_reference"]
    gts = [a for a in doc["annotations"] if a["category_id"] in set(cat_ids)]
    imgs = doc["images"]
    res = {"splits": {s: {} for s in SPLITS}, "per_category": {}}
    for mode in modes:
        ids, tm, exm, emm = mode_inputs(mode, pkg.tok, names, L, ex, em, pkg.meta["text"]["vision_only_mask_tokens"])
        dets = []
        for s in range(0, len(imgs), batch):
            chunk = imgs[s:s + batch]
            xs, scales = zip(*[load_image(os.path.join(eval_dir, im["file_name"])) for im in chunk])
            out = det(torch.stack(xs), ids, tm, exm, emm)
            boxes, logits = out[0], out[1]  # a package may add box embeddings after these
            for j, im in enumerate(chunk):
                for dd in postprocess(boxes[j], logits[j], scales[j], (im["width"], im["height"]), cat_ids, pp):
                    dd["image_id"] = im["id"]
                    dets.append(dd)
        per_cat = coco_eval.evaluate(gts, dets, cat_ids)
        for split in SPLITS:
            ids_s = [c["id"] for c in cats if c["split"] == split]
            ap, ap50 = coco_eval.summarize(per_cat, ids_s)
            res["splits"][split][mode] = {"ap": round(ap, 2), "ap50": round(ap50, 2)}
        res["per_category"][mode] = {c["name"] + f" #{c['id']}": round(float(per_cat[c["id"]][0] * 100), 1)
                                     for c in cats if c["id"] in per_cat}
        if log:
            log(f"eval {mode}: " + " ".join(f"{sp} {res['splits'][sp][mode]['ap']:.1f}/{res['splits'][sp][mode]['ap50']:.1f}" for sp in SPLITS))
    return res


def format_table(res, title=None):
    lines = []
    if title:
        lines.append(title)
    lines.append("| split | text AP | text AP50 | vision AP | vision AP50 | text+vision AP | text+vision AP50 |")
    lines.append("|---|---|---|---|---|---|---|")
    for s in SPLITS:
        row = res["splits"][s]
        cells = []
        for m in MODES:
            v = row.get(m, {"ap": float("nan"), "ap50": float("nan")})
            cells += [f"{v['ap']:.1f}", f"{v['ap50']:.1f}"]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
