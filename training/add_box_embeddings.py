"""Adds the optional per-box embedding outputs of contract v2 to a per-category format-2 package, same weights.

The detector then returns (boxes, logits, box_embeddings [B, M, D], box_embedding_anchors [B, M]): for M anchors
of each image, the anchor's index n in [0, N) and its region features in the exemplar feature space (RoIAlign of
the anchor's own box on the detector's backbone features, exactly what the exemplar encoder computes for a box).
The pipeline compares them with a category's positive and negative exemplars (evidence, negative exemplars).

Embedding all N anchors would cost as much as the rest of the forward, so the package embeds only the anchors a
detection can come from: anchors at a local maximum (3 x 3) of some category's score, the top M of them by that score.
A detection whose anchor is not among them carries no evidence and is never dropped by a negative exemplar.

    /usr/bin/python3 training/add_box_embeddings.py SRC_DIR DST_DIR [--top M]
"""
import argparse
import json
import os
import shutil
from typing import Tuple

import torch
import torch.nn.functional as Fn
from torch import Tensor, nn


class DetectorWithEmbeddings(nn.Module):
    def __init__(self, inner, top: int):
        super().__init__()
        self.inner = inner
        self.top = top

    def forward(self, images: Tensor, image_sizes: Tensor, token_ids: Tensor, token_mask: Tensor,
                positive_map: Tensor, exemplar_feats: Tensor, exemplar_mask: Tensor
                ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        f, r, boxes, img = self.inner.image_features(images)
        q, _ = self.inner.encode_queries(img, token_ids, token_mask, exemplar_feats, exemplar_mask, True)
        logits = self.inner.score(r, q)
        b, c, h, w = f.shape
        k = logits.shape[2]
        grid = logits.transpose(1, 2).reshape(b, k, h, w)
        peaks = grid == Fn.max_pool2d(grid, 3, stride=1, padding=1)                  # per category, as NMS keeps them
        ranked = torch.where(peaks, grid, torch.full_like(grid, -1e9)).max(dim=1).values.view(b, h * w)
        m = min(self.top, h * w)
        anchors = ranked.topk(m, dim=1).indices                                       # [B, M]
        chosen = boxes.gather(1, anchors.unsqueeze(2).expand(b, m, 4))               # [B, M, 4]
        return boxes, logits, self.roi(f, chosen), anchors

    def roi(self, f: Tensor, boxes: Tensor) -> Tensor:
        """The exemplar encoder's RoIAlign (2 x 2 bilinear samples per bin) for boxes [B, M, 4] of each image,
        sampled from f [B, C, h, w] in one grid_sample call per batch (no per-box copy of the feature map)."""
        stride = int(self.inner.stride)
        p = int(self.inner.roi)
        s = 2 * p
        b, m = boxes.shape[0], boxes.shape[1]
        height = float(f.shape[2] * stride)
        width = float(f.shape[3] * stride)
        t = (torch.arange(s, dtype=f.dtype, device=f.device) + 0.5) / float(s)
        x0, y0, x1, y1 = boxes[:, :, 0:1], boxes[:, :, 1:2], boxes[:, :, 2:3], boxes[:, :, 3:4]
        gx = (x0 + (x1 - x0) * t.view(1, 1, s)) / width * 2.0 - 1.0                 # [B, M, S]
        gy = (y0 + (y1 - y0) * t.view(1, 1, s)) / height * 2.0 - 1.0
        grid = torch.stack([gx.view(b, m, 1, s).expand(b, m, s, s), gy.view(b, m, s, 1).expand(b, m, s, s)], dim=4)
        sampled = Fn.grid_sample(f, grid.reshape(b, m * s, s, 2), mode="bilinear", padding_mode="border",
                                 align_corners=False)                                 # [B, C, M*S, S]
        sampled = sampled.view(b, f.shape[1], m, s, s).permute(0, 2, 1, 3, 4).reshape(b * m, f.shape[1], s, s)
        return Fn.avg_pool2d(sampled, 2).flatten(1).view(b, m, -1)


def main(src, dst, top):
    with open(os.path.join(src, "model.json")) as f:
        meta = json.load(f)
    if meta.get("format_version") != 2 or meta["text"]["prompt_mode"] != "per-category":
        raise SystemExit(f"{src} is not a per-category format-2 package")
    staging = dst.rstrip("/") + ".tmp"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(src, staging)
    wrapper = torch.jit.load(os.path.join(src, "detector.pt"))
    inner = wrapper.inner if hasattr(wrapper, "inner") else wrapper
    detector = torch.jit.script(DetectorWithEmbeddings(inner, top).eval())
    detector.save(os.path.join(staging, "detector.pt"))
    dim = meta["exemplars"]["feature_dim"]
    meta["detector"]["outputs"] = [o for o in meta["detector"]["outputs"] if o["name"] in ("boxes", "logits")] + [
        {"name": "box_embeddings", "dtype": "float32", "shape": ["B", "M", dim]},
        {"name": "box_embedding_anchors", "dtype": "int64", "shape": ["B", "M"]},
    ]
    meta["detector"]["box_embedding_dim"] = dim
    meta["detector"]["box_embedding_note"] = (
        f"M = {top}: anchors at a 3 x 3 local maximum of some category's score, highest first "
        "(training/add_box_embeddings.py)")
    meta["saved_with"] = {"torch": torch.__version__, "method": "torch.jit.script"}
    with open(os.path.join(staging, "model.json"), "w") as f:
        json.dump(meta, f, indent=1)
    if os.path.abspath(src) == os.path.abspath(dst):
        shutil.rmtree(dst)
    else:
        shutil.rmtree(dst, ignore_errors=True)
    os.rename(staging, dst)
    print(f"wrote {dst} (box embeddings for the top {top} anchors)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--top", type=int, default=32)
    args = parser.parse_args()
    main(args.src, args.dst, args.top)
