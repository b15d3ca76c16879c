"""Writes a tiny prompt-mode (GLIP-style) format-2 package for the Java tests of prompt mode
(mqdet-inference/src/test/resources/prompt-package): a WordPiece tokenizer.json with [CLS]/[SEP] whose vocabulary
has every letter as a piece, so any name tokenizes without [UNK], and a random detector whose per-category logits
are the positive-map mean of its token embeddings against a grid of image features. Not a detector of anything:
it exists to check the contract's plumbing (prompts, positive map, chunking, padding, shapes).

    /usr/bin/python3 mqdet-inference/src/test/python/make_prompt_test_package.py
"""
import json
import os
import string
from typing import Tuple

import torch
from torch import Tensor, nn

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "prompt-package")
DIM, FEAT, STRIDE = 8, 16, 32
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["red", "fox", "blue", "square", "dotted", "striped", "star", "##s", "##ed", "."]


def vocab():
    tokens = SPECIALS + WORDS + list(string.ascii_lowercase) + ["##" + c for c in string.ascii_lowercase] \
        + list(string.digits) + ["##" + c for c in string.digits] + ["'", "-"]
    return {t: i for i, t in enumerate(dict.fromkeys(tokens))}


def tokenizer_json(v):
    cls, sep = v["[CLS]"], v["[SEP]"]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [dict(id=v[t], content=t, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
                         for t in SPECIALS],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]},
                                              "[SEP]": {"id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": v},
    }


class Detector(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, DIM)
        self.pixels = nn.Conv2d(3, DIM, STRIDE, STRIDE)
        self.exemplars = nn.Linear(FEAT, DIM)
        self.embed = nn.Linear(DIM, FEAT)

    def forward(self, images: Tensor, image_sizes: Tensor, token_ids: Tensor, token_mask: Tensor, positive_map: Tensor,
                exemplar_feats: Tensor, exemplar_mask: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        stride = 32.0
        grid = self.pixels(images)  # [B, D, H/32, W/32]
        b, d, gh, gw = grid.shape
        feats = grid.flatten(2).transpose(1, 2)  # [B, N, D]
        ys = torch.arange(gh, dtype=torch.float32).view(gh, 1).expand(gh, gw).reshape(-1) * stride
        xs = torch.arange(gw, dtype=torch.float32).view(1, gw).expand(gh, gw).reshape(-1) * stride
        boxes = torch.stack([xs, ys, xs + stride, ys + stride], 1).unsqueeze(0).expand(b, gh * gw, 4)
        words = self.tokens(token_ids) * token_mask.unsqueeze(-1).float()  # [R, L, D]
        weights = positive_map / positive_map.sum(dim=(1, 2), keepdim=True).clamp(min=1.0)  # [K, R, L]
        text = torch.einsum("krl,rld->kd", weights, words)
        m = exemplar_mask.unsqueeze(-1).float()
        shots = (self.exemplars(exemplar_feats) * m).sum(1) / m.sum(1).clamp(min=1.0)
        categories = text + shots  # [K, D]
        logits = torch.einsum("bnd,kd->bnk", feats, categories)
        # every anchor embedded (M = N), the simplest layout the contract allows
        anchors = torch.arange(gh * gw, dtype=torch.long).unsqueeze(0).expand(b, gh * gw)
        return boxes, logits, self.embed(feats), anchors


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3, FEAT)

    def forward(self, image: Tensor, image_sizes: Tensor, boxes: Tensor) -> Tensor:
        mean = image.mean(dim=(2, 3))  # [1, 3]
        return self.proj(mean).expand(boxes.shape[0], 16) + boxes.mean(1, keepdim=True) * 0.001


def main():
    torch.manual_seed(0)
    v = vocab()
    os.makedirs(OUT, exist_ok=True)
    torch.jit.script(Detector(len(v)).eval()).save(os.path.join(OUT, "detector.pt"))
    torch.jit.script(Encoder().eval()).save(os.path.join(OUT, "exemplar_encoder.pt"))
    json.dump(tokenizer_json(v), open(os.path.join(OUT, "tokenizer.json"), "w"), indent=1)
    contract = {
        "format": "mqdet-torchscript", "format_version": 2, "name": "prompt-test",
        "description": "Test-only package of the Java tests: GLIP-style prompt mode, shorter side, BGR, 0-255.",
        "files": {"detector": "detector.pt", "exemplar_encoder": "exemplar_encoder.pt", "tokenizer": "tokenizer.json"},
        "image": {"resize": "shorter_side", "min_size": 128, "max_size": 224, "pad_to_multiple": 32, "channel_order": "BGR",
                  "value_scale": 255, "mean": [102.98, 115.95, 122.77], "std": [1.0, 1.0, 1.0], "pad_value": 0.0},
        "text": {"tokenizer": "tokenizer.json", "prompt_mode": "prompt", "add_special_tokens": True, "max_tokens": 64,
                 "separator": ". ", "terminator": ".", "max_categories_per_prompt": 8, "vision_only_name": "[MASK]", "pad_id": 0},
        "exemplars": {"feature_dim": FEAT, "max_exemplars_per_category": 4, "recommended_exemplars_per_category": 4},
        "detector": {
            "inputs": [{"name": n} for n in ["images", "image_sizes", "token_ids", "token_mask", "positive_map", "exemplar_feats", "exemplar_mask"]],
            "outputs": [{"name": "boxes"}, {"name": "logits"}, {"name": "box_embeddings"}, {"name": "box_embedding_anchors"}],
            "box_embedding_dim": FEAT,
        },
        "exemplar_encoder": {"inputs": [{"name": n} for n in ["image", "image_sizes", "boxes"]],
                             "outputs": [{"name": "exemplar_feats", "shape": ["M", FEAT]}]},
        "postprocess_reference": {"score_threshold": 0.05, "pre_nms_top_k": 1000, "nms_iou": 0.5, "max_detections_per_image_and_category": 100},
    }
    contract["detector"]["inputs"][0]["shape"] = ["B", 3, "H", "W"]
    contract["detector"]["inputs"][5]["shape"] = ["K", "E", FEAT]
    json.dump(contract, open(os.path.join(OUT, "model.json"), "w"), indent=1)
    print("wrote", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
