"""Re-exports a format-1 package (mqdet-synth-v1) in format 2 without retraining.

The format-2 detector takes (images, image_sizes, token_ids, token_mask, positive_map, exemplar_feats,
exemplar_mask) and the exemplar encoder (image, image_sizes, boxes). A format-1 model fits behind a thin
TorchScript wrapper that drops the inputs it has no use for: it is a per-category model on a fixed 320 x 320
letterbox, so image_sizes (the padding is known) and positive_map (one row per category) add nothing. This is the
same kind of wrapper an export of the official MQ-GLIP-T needs, and it shows the Java side needs no change for it.

    /usr/bin/python3 training/rewrap_v1_as_v2.py SRC_DIR DST_DIR
"""
import json
import os
import shutil
import sys
from typing import Tuple

import torch
from torch import Tensor, nn


class DetectorV2(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, images: Tensor, image_sizes: Tensor, token_ids: Tensor, token_mask: Tensor,
                positive_map: Tensor, exemplar_feats: Tensor, exemplar_mask: Tensor) -> Tuple[Tensor, Tensor]:
        return self.inner(images, token_ids, token_mask, exemplar_feats, exemplar_mask)


class ExemplarEncoderV2(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, image: Tensor, image_sizes: Tensor, boxes: Tensor) -> Tensor:
        return self.inner(image, boxes)


def contract_v2(v1):
    size = v1["image"]["height"]
    dim = v1["exemplars"]["feature_dim"]
    text = v1["text"]
    return {
        "format": "mqdet-torchscript",
        "format_version": 2,
        "name": v1["name"],
        "description": v1["description"] + " Re-exported in format 2 (training/rewrap_v1_as_v2.py): the same "
                       "weights behind a wrapper; per-category prompts on a 320 x 320 letterbox.",
        "files": v1["files"],
        "saved_with": {"torch": torch.__version__, "method": "torch.jit.script"},
        "image": {
            "resize": "letterbox", "size": size, "upscale": False, "pad_to_multiple": size,
            "channel_order": "RGB", "value_scale": 1, "mean": v1["image"]["mean"], "std": v1["image"]["std"],
            "pad_value": 0.0,
        },
        "text": {
            "tokenizer": "tokenizer.json",
            "prompt_mode": "per-category",
            "add_special_tokens": False,
            "max_tokens": text["max_tokens"],
            "max_categories_per_forward": v1["detector"]["max_categories_per_forward"],
            "vision_only_name": " ".join(["[MASK]"] * text["vision_only_mask_tokens"]),
            "pad_id": text["pad_id"],
        },
        "exemplars": {
            "feature_dim": dim,
            "max_exemplars_per_category": v1["exemplars"]["max_exemplars_per_category"],
            "recommended_exemplars_per_category": v1["exemplars"]["recommended_exemplars_per_category"],
        },
        "detector": {
            "file": "detector.pt",
            "inputs": [
                {"name": "images", "dtype": "float32", "shape": ["B", 3, "H", "W"]},
                {"name": "image_sizes", "dtype": "int64", "shape": ["B", 2]},
                {"name": "token_ids", "dtype": "int64", "shape": ["R", "L"]},
                {"name": "token_mask", "dtype": "int64", "shape": ["R", "L"]},
                {"name": "positive_map", "dtype": "float32", "shape": ["K", "R", "L"]},
                {"name": "exemplar_feats", "dtype": "float32", "shape": ["K", "E", dim]},
                {"name": "exemplar_mask", "dtype": "int64", "shape": ["K", "E"]},
            ],
            "outputs": [
                {"name": "boxes", "dtype": "float32", "shape": ["B", "N", 4]},
                {"name": "logits", "dtype": "float32", "shape": ["B", "N", "K"]},
            ],
        },
        "exemplar_encoder": {
            "file": "exemplar_encoder.pt",
            "inputs": [
                {"name": "image", "dtype": "float32", "shape": [1, 3, "H", "W"]},
                {"name": "image_sizes", "dtype": "int64", "shape": [1, 2]},
                {"name": "boxes", "dtype": "float32", "shape": ["M", 4]},
            ],
            "outputs": [{"name": "exemplar_feats", "dtype": "float32", "shape": ["M", dim]}],
        },
        "postprocess_reference": v1["postprocess_reference"],
        "reference_eval": v1.get("reference_eval"),
    }


def main(src, dst):
    with open(os.path.join(src, "model.json")) as f:
        v1 = json.load(f)
    if v1.get("format_version") != 1:
        raise SystemExit(f"{src} is not a format-1 package")
    staging = dst.rstrip("/") + ".tmp"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    detector = torch.jit.script(DetectorV2(torch.jit.load(os.path.join(src, "detector.pt"))).eval())
    detector.save(os.path.join(staging, "detector.pt"))
    encoder = torch.jit.script(ExemplarEncoderV2(torch.jit.load(os.path.join(src, "exemplar_encoder.pt"))).eval())
    encoder.save(os.path.join(staging, "exemplar_encoder.pt"))
    shutil.copy(os.path.join(src, "tokenizer.json"), os.path.join(staging, "tokenizer.json"))
    with open(os.path.join(staging, "model.json"), "w") as f:
        json.dump(contract_v2(v1), f, indent=1)
    shutil.rmtree(dst, ignore_errors=True)
    os.rename(staging, dst)
    print(f"wrote {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
