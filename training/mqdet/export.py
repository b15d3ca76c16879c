"""TorchScript export of a model package: detector.pt, exemplar_encoder.pt, tokenizer.json,
model.json (the contract)."""
import json
import os

import torch

from .data import IMAGE_SIZE, MEAN, STD
from .model import ExemplarEncoder

MAX_CATEGORIES_PER_FORWARD = 256
VISION_ONLY_MASK_TOKENS = 3


def contract(model, tok, name, cfg):
    L, D, E = model.max_tokens, model.exdim, cfg["max_exemplars"]
    N = (IMAGE_SIZE // model.stride) ** 2
    return {
        "format": "mqdet-torchscript",
        "format_version": 1,
        "name": name,
        "description": "Small MQ-Det (MQ-GLIP-style) reference model trained on the project's synthetic world. "
                       "Stage 1 text-queried detector, frozen; stage 2 GCP modules trained with "
                       "vision-conditioned masked language prediction.",
        "files": {"detector": "detector.pt", "exemplar_encoder": "exemplar_encoder.pt", "tokenizer": "tokenizer.json"},
        "saved_with": {"torch": torch.__version__, "method": "torch.jit.script"},
        "image": {
            "height": IMAGE_SIZE, "width": IMAGE_SIZE, "channels": "RGB", "layout": "NCHW", "dtype": "float32",
            "value_range_before_normalisation": [0.0, 1.0],
            "mean": list(MEAN), "std": list(STD),
            "normalisation": "x = (pixel / 255 - mean[c]) / std[c]",
            "resize": "letterbox: if max(w, h) > size, resize bilinearly by scale = size / max(w, h) "
                      "(new side = round(side * scale)); otherwise scale = 1 (no resize). Place the image at the "
                      "top-left corner of a size x size canvas.",
            "pad_value_normalised": 0.0,
            "coordinates": "boxes in and out are xyxy in network-input pixels (0..size); "
                           "divide by scale to get original image pixels",
        },
        "text": {
            "tokenizer": "tokenizer.json (HuggingFace tokenizers: WordLevel, Lowercase normaliser, Whitespace "
                         "pre-tokenizer, no post-processor; encode WITHOUT adding special tokens)",
            "max_tokens": L,
            "pad_id": tok.pad_id, "unk_id": tok.unk_id, "mask_id": tok.mask_id,
            "per_category": "one row per category: the ids of that category's name, truncated to max_tokens, "
                            "right-padded with pad_id; token_mask 1 for real tokens, 0 for padding. "
                            "A row must have at least one token with mask 1.",
            "vision_only": f"token_ids row = [mask_id] x {VISION_ONLY_MASK_TOKENS} (token_mask 1 for those "
                           f"{VISION_ONLY_MASK_TOKENS}) plus exemplars",
            "vision_only_mask_tokens": VISION_ONLY_MASK_TOKENS,
        },
        "exemplars": {
            "feature_dim": D,
            "max_exemplars_per_category": E,
            "recommended_exemplars_per_category": 5,
            "encoder": "exemplar_encoder.pt: frozen detector backbone + RoIAlign (3x3 bins, 2x2 bilinear samples "
                       "per bin) of each box; one vector per box",
            "text_only": "exemplar_mask all 0 for the category (exemplar_feats values are then ignored; zeros are fine)",
        },
        "detector": {
            "file": "detector.pt",
            "inputs": [
                {"name": "images", "dtype": "float32", "shape": ["B", 3, IMAGE_SIZE, IMAGE_SIZE]},
                {"name": "token_ids", "dtype": "int64", "shape": ["K", "L"], "note": f"L <= {L}"},
                {"name": "token_mask", "dtype": "int64", "shape": ["K", "L"], "note": "1 = token, 0 = padding"},
                {"name": "exemplar_feats", "dtype": "float32", "shape": ["K", "E", D],
                 "note": f"1 <= E <= {E}; output of exemplar_encoder.pt"},
                {"name": "exemplar_mask", "dtype": "int64", "shape": ["K", "E"], "note": "1 = exemplar present, 0 = none"},
            ],
            "outputs": [
                {"name": "boxes", "dtype": "float32", "shape": ["B", "N", 4],
                 "note": f"xyxy, network-input pixels; N = {N} anchor points (stride {model.stride} grid, row-major); "
                         "class-agnostic: every category shares the box of an anchor point"},
                {"name": "logits", "dtype": "float32", "shape": ["B", "N", "K"],
                 "note": "raw region-to-category alignment logits; score = sigmoid(logit)"},
            ],
            "output_container": "tuple (boxes, logits)",
            "dynamic_dims": ["B", "K", "L", "E"],
            "max_categories_per_forward": MAX_CATEGORIES_PER_FORWARD,
            "category_independence": "every category is encoded, fused with the image and scored on its own "
                                     "(no attention across categories), so the logits of a category do not depend "
                                     "on the other categories in the chunk: chunking a large query set into "
                                     "several forwards and concatenating along K is exact",
            "score_semantics": "sigmoid(logit) is an independent per-(anchor, category) probability; no softmax "
                               "across categories. No thresholding or NMS is done inside the model.",
        },
        "exemplar_encoder": {
            "file": "exemplar_encoder.pt",
            "inputs": [
                {"name": "image", "dtype": "float32", "shape": [1, 3, IMAGE_SIZE, IMAGE_SIZE],
                 "note": "pre-processed exactly like detector images"},
                {"name": "boxes", "dtype": "float32", "shape": ["M", 4], "note": "xyxy, network-input pixels"},
            ],
            "outputs": [{"name": "exemplar_feats", "dtype": "float32", "shape": ["M", D]}],
        },
        "postprocess_reference": {
            "note": "what training/run eval does (the Java side owns thresholds and NMS)",
            "score_threshold": 0.05, "pre_nms_top_k": 1000, "nms_iou": 0.5, "nms": "greedy, per category",
            "max_detections_per_image_and_category": 100,
        },
    }


def export_package(model, tok, cfg, out_dir, name, extra=None):
    os.makedirs(out_dir, exist_ok=True)
    model = model.eval()
    det = torch.jit.script(model)
    det.save(os.path.join(out_dir, "detector.pt"))
    enc = torch.jit.script(ExemplarEncoder(model).eval())
    enc.save(os.path.join(out_dir, "exemplar_encoder.pt"))
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    c = contract(model, tok, name, cfg)
    if extra:
        c.update(extra)
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(c, f, indent=1)
    return c


def package_size(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if os.path.isfile(os.path.join(d, f)))
