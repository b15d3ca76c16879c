"""Small MQ-Det (MQ-GLIP-style) reference model, written to be torch.jit.script-able.

Detector (stage 1, text-queried, GLIP-like):
  image  -> CNN backbone + neck (stride 8, C channels)              F   [B,C,h,w]
         -> region embedding tower                                  R   [B,N,D]
         -> box tower (FCOS ltrb distances)                         boxes [B,N,4]
         -> image tokens (F average-pooled to 10x10, projected)     I   [B,T,D]
  text   -> token embedding + position, text-encoder layers (self-attention per category)
         -> image-text fusion: each category's tokens cross-attend to I  (per category, so a
            category's score never depends on the other categories in the chunk)
         -> masked mean over tokens -> category embedding           Q   [B,K,D]
  logits[b,n,k] = <R[b,n], Q[b,k]> / sqrt(D) + bias

MQ-Det (stage 2): a GCP module after every text-encoder layer.  Exemplar features
(RoI features of the exemplar boxes taken from the frozen backbone, see ExemplarEncoder) are
first conditioned on the target image (exemplar tokens cross-attend to I), then each category's
text tokens cross-attend to that category's own exemplars only; the result is added through a
gate tanh(w . x) with w initialised at zero (conditional gate of the official code) followed by
a tanh(ff_gate)-gated feed-forward.  Categories without exemplars are left bit-identical.
"""
import math
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as Fn


def conv_bn(cin: int, cout: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Backbone(nn.Module):
    """Stride-8 feature map with a top-down neck from stride 16."""

    def __init__(self, c: int = 64):
        super().__init__()
        self.stem = conv_bn(3, 16, 2)                                   # /2
        self.s2 = nn.Sequential(conv_bn(16, 32, 2), conv_bn(32, 32))    # /4
        self.s3 = nn.Sequential(conv_bn(32, 64, 2), conv_bn(64, 64))    # /8
        self.s4 = nn.Sequential(conv_bn(64, 96, 2), conv_bn(96, 96))    # /16
        self.lat3 = nn.Conv2d(64, c, 1)
        self.lat4 = nn.Conv2d(96, c, 1)
        self.out = conv_bn(c, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.s2(self.stem(x))
        c3 = self.s3(x)
        c4 = self.s4(c3)
        up = Fn.interpolate(self.lat4(c4), size=(c3.shape[2], c3.shape[3]), mode="nearest")
        return self.out(self.lat3(c3) + up)


class Attention(nn.Module):
    """Multi-head attention.  With masked=True a key mask (1 = keep) is applied and query rows
    whose keys are all masked get an exact zero output; masked=False attends to all keys."""

    def __init__(self, dim: int, kdim: int, heads: int = 4, masked: bool = True):
        super().__init__()
        self.heads = heads
        self.dh = dim // heads
        self.masked = masked
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(kdim, dim)
        self.v = nn.Linear(kdim, dim)
        self.o = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, ctx: torch.Tensor, kmask: torch.Tensor) -> torch.Tensor:
        # x [S,Lq,dim], ctx [S,Lk,kdim], kmask float [S,Lk] (ignored when masked=False)
        S, Lq, _ = x.shape
        Lk = ctx.shape[1]
        h, dh = self.heads, self.dh
        q = (self.q(x) * (1.0 / math.sqrt(dh))).view(S, Lq, h, dh).transpose(1, 2)
        k = self.k(ctx).view(S, Lk, h, dh).transpose(1, 2)
        v = self.v(ctx).view(S, Lk, h, dh).transpose(1, 2)
        att = torch.matmul(q, k.transpose(2, 3))
        if self.masked:
            m = kmask.view(S, 1, 1, Lk)
            att = torch.softmax(att + (1.0 - m) * -1e4, dim=-1) * m
        else:
            att = torch.softmax(att, dim=-1)
        out = torch.matmul(att, v).transpose(1, 2).reshape(S, Lq, h * dh)
        return self.o(out)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 2):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.l1 = nn.Linear(dim, dim * mult)
        self.l2 = nn.Linear(dim * mult, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l2(Fn.gelu(self.l1(self.norm(x))))


class TextLayer(nn.Module):
    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = Attention(dim, dim, heads)
        self.ff = FeedForward(dim)

    def forward(self, x: torch.Tensor, tmask: torch.Tensor) -> torch.Tensor:
        y = self.norm(x)
        x = x + self.attn(y, y, tmask)
        return x + self.ff(x)


class FusionLayer(nn.Module):
    """Image-to-text fusion: category tokens cross-attend to the target image tokens."""

    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.norm_img = nn.LayerNorm(dim)
        self.attn = Attention(dim, dim, heads, masked=False)
        self.ff = FeedForward(dim)

    def forward(self, x: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
        # x [B,K*L,D] (all category tokens of one image; each token attends to the image only,
        # so categories stay independent), img [B,T,D]
        x = x + self.attn(self.norm(x), self.norm_img(img), img[:, :, 0])
        return x + self.ff(x)


class ExemplarConditioner(nn.Module):
    """GCP step 1 (the official PreSelectBlock): exemplar tokens cross-attend to the target
    image, conditioning them on the scene."""

    def __init__(self, exdim: int, dim: int, heads: int = 4):
        super().__init__()
        self.proj = nn.Sequential(nn.LayerNorm(exdim), nn.Linear(exdim, dim))
        self.norm = nn.LayerNorm(dim)
        self.norm_img = nn.LayerNorm(dim)
        self.attn = Attention(dim, dim, heads, masked=False)
        self.ff = FeedForward(dim)

    def forward(self, ex: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
        # ex [B,K*E,exdim] (all exemplars of one image's query set), img [B,T,dim]
        v = self.proj(ex)
        v = v + self.attn(self.norm(v), self.norm_img(img), img[:, :, 0])
        return v + self.ff(v)


class GCP(nn.Module):
    """Gated class-scalable perceiver block (GatedCrossAttentionBlock in MQ-Det).
    Text tokens of one category cross-attend to that category's exemplars only."""

    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.attn = Attention(dim, dim, heads)
        self.gate = nn.Linear(dim, 1, bias=False)   # conditional gate, tanh(w.x), w = 0 at start
        nn.init.zeros_(self.gate.weight)
        self.ff = FeedForward(dim)
        self.ff_gate = nn.Parameter(torch.zeros(1))
        # True (inference / export): categories without exemplars get exactly zero from the
        # attention branch, output bias included, so text-only mode is the stage-1 detector.
        # Stage-2 training runs with False (the attention output bias then also reaches
        # categories without exemplars); this is how the shipped weights were trained.
        self.zero_without_exemplars = True

    def forward(self, x: torch.Tensor, v: torch.Tensor, emask: torch.Tensor, has_ex: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        # x [S,L,D]; v [S,E,D]; emask float [S,E]; has_ex float [S]
        # categories without exemplars get exactly zero (attention weights and output bias)
        a = self.attn(self.norm(x), self.norm_kv(v), emask)
        if self.zero_without_exemplars:
            a = a * has_ex.view(-1, 1, 1)
        g = torch.tanh(self.gate(a))                              # [S,L,1]
        x = x + g * a
        x = x + self.ff(x) * torch.tanh(self.ff_gate) * has_ex.view(-1, 1, 1)
        return x, g


class MQDet(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 64, c: int = 64, max_tokens: int = 8,
                 n_text_layers: int = 2, pool: int = 8, roi: int = 3, stride: int = 8,
                 image_size: int = 320, use_gcp: bool = True):
        super().__init__()
        self.dim, self.c, self.max_tokens, self.pool, self.roi = dim, c, max_tokens, pool, roi
        self.stride, self.image_size = stride, image_size
        self.exdim = c * roi * roi
        self.backbone = Backbone(c)
        self.cls_tower = nn.Sequential(conv_bn(c, c), nn.Conv2d(c, dim, 1))
        self.box_tower = nn.Sequential(conv_bn(c, c), nn.Conv2d(c, 4, 1))
        self.img_tok = nn.Linear(c, dim)
        self.tok_emb = nn.Embedding(vocab_size, dim)
        self.pos_emb = nn.Parameter(torch.zeros(max_tokens, dim))
        self.text_layers = nn.ModuleList([TextLayer(dim) for _ in range(n_text_layers)])
        self.fusion = FusionLayer(dim)
        self.out_norm = nn.LayerNorm(dim)
        self.out_proj = nn.Linear(dim, dim)
        self.bias = nn.Parameter(torch.tensor([-4.6]))
        # MQ-Det modules (trained in stage 2 only)
        self.conditioner = ExemplarConditioner(self.exdim, dim)
        for layer in self.text_layers:
            layer.gcp = GCP(dim)   # GCP inserted into every text-encoder layer
        nn.init.normal_(self.pos_emb, std=0.02)

    # ---------------------------------------------------------------- image side
    def image_features(self, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns feature map F [B,C,h,w], region embeddings R [B,N,D], boxes [B,N,4] xyxy
        (input pixels) and image tokens I [B,T,D]."""
        f = self.backbone(images)
        B, C, h, w = f.shape
        r = self.cls_tower(f).flatten(2).transpose(1, 2)
        ltrb = torch.exp(self.box_tower(f).clamp(max=6.0)) * float(self.stride)
        ltrb = ltrb.flatten(2).transpose(1, 2)
        ys = (torch.arange(h, dtype=f.dtype, device=f.device) + 0.5) * float(self.stride)
        xs = (torch.arange(w, dtype=f.dtype, device=f.device) + 0.5) * float(self.stride)
        cy = ys.view(h, 1).expand(h, w).reshape(1, h * w)
        cx = xs.view(1, w).expand(h, w).reshape(1, h * w)
        boxes = torch.stack([cx - ltrb[:, :, 0], cy - ltrb[:, :, 1], cx + ltrb[:, :, 2], cy + ltrb[:, :, 3]], dim=2)
        img = Fn.adaptive_avg_pool2d(f, self.pool).flatten(2).transpose(1, 2)
        return f, r, boxes, self.img_tok(img)

    # ---------------------------------------------------------------- text side
    def encode_queries(self, img: torch.Tensor, token_ids: torch.Tensor, token_mask: torch.Tensor,
                       ex: torch.Tensor, ex_mask: torch.Tensor, use_gcp: bool) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """img [B,T,D]; token_ids/token_mask [K,L]; ex [K,E,exdim]; ex_mask [K,E] -> Q [B,K,D]."""
        B, T, D = img.shape
        K, L = token_ids.shape
        tm = token_mask.to(img.dtype)
        x = self.tok_emb(token_ids) + self.pos_emb[:L].unsqueeze(0)                 # [K,L,D]
        gates: List[torch.Tensor] = []
        if use_gcp:
            E = ex.shape[1]
            em = ex_mask.to(img.dtype)
            has = (em.sum(1) > 0).to(img.dtype)                                     # [K]
            exB = ex.reshape(1, K * E, ex.shape[2]).expand(B, K * E, ex.shape[2])
            v = self.conditioner(exB, img).reshape(B * K, E, D)                      # [BK,E,D]
            emS = em.unsqueeze(0).expand(B, K, E).reshape(B * K, E)
            hasS = has.unsqueeze(0).expand(B, K).reshape(B * K)
            tmS = tm.unsqueeze(0).expand(B, K, L).reshape(B * K, L)
            for i, layer in enumerate(self.text_layers):
                if i == 0:
                    # before the first GCP the tokens do not depend on the image: run once
                    x = layer(x, tm)
                    x = x.unsqueeze(0).expand(B, K, L, D).reshape(B * K, L, D)
                else:
                    x = layer(x, tmS)
                x, g = layer.gcp(x, v, emS, hasS)
                gates.append(g)
        else:
            # no exemplars: the text encoder does not depend on the image, run it once
            for layer in self.text_layers:
                x = layer(x, tm)
            x = x.unsqueeze(0).expand(B, K, L, D).reshape(B * K, L, D)
            tmS = tm.unsqueeze(0).expand(B, K, L).reshape(B * K, L)
        x = self.fusion(x.reshape(B, K * L, D), img).reshape(B * K, L, D)
        x = self.out_proj(self.out_norm(x))
        w = tmS.unsqueeze(2)
        q = (x * w).sum(1) / w.sum(1).clamp(min=1.0)
        return q.view(B, K, D), gates

    @torch.jit.ignore
    def gcp_blocks(self) -> List[nn.Module]:
        return [layer.gcp for layer in self.text_layers]

    @torch.jit.ignore
    def gcp_parameters(self) -> List[nn.Parameter]:
        return list(self.conditioner.parameters()) + [p for b in self.gcp_blocks() for p in b.parameters()]

    def score(self, r: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        return torch.matmul(r, q.transpose(1, 2)) / math.sqrt(self.dim) + self.bias

    def forward(self, images: torch.Tensor, token_ids: torch.Tensor, token_mask: torch.Tensor,
                exemplar_feats: torch.Tensor, exemplar_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        f, r, boxes, img = self.image_features(images)
        q, _ = self.encode_queries(img, token_ids, token_mask, exemplar_feats, exemplar_mask, True)
        return boxes, self.score(r, q)


def roi_align_grid(f: torch.Tensor, boxes: torch.Tensor, stride: int, roi: int) -> torch.Tensor:
    """RoIAlign (bilinear, 2x2 samples per bin, written with grid_sample so that the TorchScript
    file needs no torchvision ops) of boxes [M,4] (xyxy, network-input pixels) on the feature map
    of ONE image f [1,C,h,w] with the given stride.  Returns [M, C*roi*roi] (channel-major)."""
    M = boxes.shape[0]
    P = roi
    S = 2 * P
    H = float(f.shape[2] * stride)
    W = float(f.shape[3] * stride)
    t = (torch.arange(S, dtype=f.dtype, device=f.device) + 0.5) / float(S)
    x0, y0, x1, y1 = boxes[:, 0:1], boxes[:, 1:2], boxes[:, 2:3], boxes[:, 3:4]
    gx = (x0 + (x1 - x0) * t.view(1, S)) / W * 2.0 - 1.0                                # [M,S]
    gy = (y0 + (y1 - y0) * t.view(1, S)) / H * 2.0 - 1.0
    grid = torch.stack([gx.view(M, 1, S).expand(M, S, S), gy.view(M, S, 1).expand(M, S, S)], dim=3)
    samp = Fn.grid_sample(f.expand(M, f.shape[1], f.shape[2], f.shape[3]), grid, mode="bilinear",
                          padding_mode="border", align_corners=False)                # [M,C,S,S]
    return Fn.avg_pool2d(samp, 2).flatten(1)


class ExemplarEncoder(nn.Module):
    """Frozen backbone + RoIAlign: image [1,3,H,W], boxes [M,4] -> exemplar features [M,exdim].
    Shares the backbone (same weights) with the detector."""

    def __init__(self, det: MQDet):
        super().__init__()
        self.backbone = det.backbone
        self.stride = det.stride
        self.roi = det.roi

    def forward(self, image: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        return roi_align_grid(self.backbone(image), boxes, self.stride, self.roi)
