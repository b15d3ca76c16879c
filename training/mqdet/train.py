"""Two-stage MQ-Det training on the synthetic world.

Stage 1: text-queried detector (everything but the GCP modules) on base categories.
Stage 2: detector frozen; only the GCP modules (exemplar conditioner + gated cross-attention
         blocks) are trained, with vision-conditioned masked language prediction: each text
         token of a category that has exemplars is replaced by [MASK] with probability 0.4.
"""
import copy
import json
import math
import random
import time

import numpy as np
import torch
import torch.nn.functional as Fn

from . import world
from .data import TrainSet, assign
from .model import MQDet, roi_align_grid
from .tokenizer import Tokenizer

DEFAULT = dict(
    seed=0,
    world_seed=0,
    n_train=7000,          # stage-1 scenes (in memory)
    s1_steps=1300, s1_batch=16, s1_lr=2e-3, s1_unk=0.05,
    n_stage2=3000,         # scenes whose frozen features are cached for stage 2
    s2_steps=1500, s2_batch=8, s2_lr=1e-3, s2_k=48,
    s2_p_exemplars=0.8,    # probability that a category has exemplars in a stage-2 step
    mask_p=0.4,            # vision-conditioned masked language prediction
    max_tokens=8, max_exemplars=5,
)


def seed_all(s):
    random.seed(s); np.random.seed(s); torch.manual_seed(s)


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(logits)
    ce = Fn.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    pt = p * targets + (1 - p) * (1 - targets)
    w = alpha * targets + (1 - alpha) * (1 - targets)
    return (w * ce * (1 - pt) ** gamma).sum()


def giou_loss(a, b):
    ix0, iy0 = torch.max(a[:, 0], b[:, 0]), torch.max(a[:, 1], b[:, 1])
    ix1, iy1 = torch.min(a[:, 2], b[:, 2]), torch.min(a[:, 3], b[:, 3])
    inter = (ix1 - ix0).clamp(min=0) * (iy1 - iy0).clamp(min=0)
    aa = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    ab = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = aa + ab - inter
    iou = inter / union.clamp(min=1e-6)
    cx0, cy0 = torch.min(a[:, 0], b[:, 0]), torch.min(a[:, 1], b[:, 1])
    cx1, cy1 = torch.max(a[:, 2], b[:, 2]), torch.max(a[:, 3], b[:, 3])
    c = ((cx1 - cx0) * (cy1 - cy0)).clamp(min=1e-6)
    return (1 - (iou - (c - union) / c)).sum()


def lr_at(step, total, base, warm=100):
    if step < warm:
        return base * (step + 1) / warm
    return base * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def encode_names(tok, names, L):
    ids, mask = zip(*[tok.encode(n, L) for n in names])
    return torch.tensor(ids, dtype=torch.long), torch.tensor(mask, dtype=torch.long)


def setup(cfg):
    cats = world.build_categories(cfg["world_seed"])
    base = [c for c in cats if c["split"] == "base"]
    tok = Tokenizer.from_names([c["name"] for c in base])
    return cats, base, tok


def new_model(cfg, tok):
    return MQDet(vocab_size=len(tok.vocab), max_tokens=cfg["max_tokens"])


def stage1(model, data, tok, cfg, log):
    seed_all(cfg["seed"] + 1)
    gen = torch.Generator().manual_seed(cfg["seed"] + 11)
    params = [p for n, p in model.named_parameters() if not (n.startswith("conditioner.") or ".gcp." in n)]
    opt = torch.optim.AdamW(params, lr=cfg["s1_lr"], weight_decay=1e-4)
    ids0, tm0 = encode_names(tok, [c["name"] for c in data.base], cfg["max_tokens"])
    K = ids0.shape[0]
    dummy_ex = torch.zeros(K, 1, model.exdim)
    dummy_em = torch.zeros(K, 1, dtype=torch.long)
    model.train()
    t0 = time.time()
    n = len(data)
    perm = torch.randperm(n, generator=gen)
    pos_ptr = 0
    for step in range(cfg["s1_steps"]):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg["s1_steps"], cfg["s1_lr"])
        if pos_ptr + cfg["s1_batch"] > n:
            perm = torch.randperm(n, generator=gen); pos_ptr = 0
        idx = perm[pos_ptr:pos_ptr + cfg["s1_batch"]].tolist(); pos_ptr += cfg["s1_batch"]
        x, boxes, labels = data.batch(idx)
        # word dropout to [UNK]: teaches [UNK] to mean "an unknown word" (rare names)
        drop = (torch.rand(ids0.shape, generator=gen) < cfg["s1_unk"]) & (tm0 > 0)
        ids = torch.where(drop, torch.full_like(ids0, tok.unk_id), ids0)
        f, r, pb, img = model.image_features(x)
        q, _ = model.encode_queries(img, ids, tm0, dummy_ex, dummy_em, False)
        logits = model.score(r, q)
        h, w = f.shape[2], f.shape[3]
        lab, tgt = assign(boxes, labels, h, w, model.stride)
        onehot = torch.zeros_like(logits)
        pos = lab >= 0
        onehot[pos, lab[pos]] = 1.0
        npos = max(1.0, float(pos.sum()))
        l_cls = focal_loss(logits, onehot) / npos
        l_box = giou_loss(pb[pos], tgt[pos]) / npos
        loss = l_cls + 2.0 * l_box
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        if step % 50 == 0 or step == cfg["s1_steps"] - 1:
            log(f"stage1 step {step}/{cfg['s1_steps']} cls {l_cls.item():.4f} box {l_box.item():.4f} "
                f"{time.time() - t0:.0f}s")
    model.eval()


@torch.no_grad()
def build_stage2_cache(model, data, cfg, log):
    """Frozen features of the stage-2 scenes: region embeddings, image tokens, assigned labels,
    and the exemplar bank (RoI features of every ground-truth box)."""
    model.eval()
    n = min(cfg["n_stage2"], len(data))
    R, I, LAB = [], [], []
    bank, bank_cat, bank_img = [], [], []
    t0 = time.time()
    for s in range(0, n, 32):
        idx = list(range(s, min(n, s + 32)))
        x, boxes, labels = data.batch(idx)
        f, r, _, img = model.image_features(x)
        lab, _ = assign(boxes, labels, f.shape[2], f.shape[3], model.stride)
        R.append(r.half()); I.append(img); LAB.append(lab)
        for j, i in enumerate(idx):
            if len(boxes[j]):
                bank.append(roi_align_grid(f[j:j + 1], boxes[j], model.stride, model.roi))
                bank_cat.append(labels[j]); bank_img.append(torch.full((len(boxes[j]),), i))
    log(f"stage2 cache: {n} scenes in {time.time() - t0:.0f}s")
    return dict(R=torch.cat(R), I=torch.cat(I), LAB=torch.cat(LAB), bank=torch.cat(bank),
                bank_cat=torch.cat(bank_cat), bank_img=torch.cat(bank_img))


def stage2(model, cache, tok, base, cfg, log, mlm=True):
    seed_all(cfg["seed"] + 2)
    gen = torch.Generator().manual_seed(cfg["seed"] + 22)
    for p in model.parameters():
        p.requires_grad_(False)
    params = model.gcp_parameters()
    for p in params:
        p.requires_grad_(True)
    model.eval()   # frozen detector: BatchNorm statistics stay fixed, no dropout anywhere
    for b in model.gcp_blocks():
        b.zero_without_exemplars = False   # see GCP.zero_without_exemplars
    opt = torch.optim.AdamW(params, lr=cfg["s2_lr"], weight_decay=1e-4)
    ids_all, tm_all = encode_names(tok, [c["name"] for c in base], cfg["max_tokens"])
    Kall = len(base)
    by_cat = [torch.nonzero(cache["bank_cat"] == k).flatten() for k in range(Kall)]
    n = cache["R"].shape[0]
    E = cfg["max_exemplars"]
    t0 = time.time()
    for step in range(cfg["s2_steps"]):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg["s2_steps"], cfg["s2_lr"])
        idx = torch.randint(0, n, (cfg["s2_batch"],), generator=gen)
        lab = cache["LAB"][idx]
        present = torch.unique(lab[lab >= 0])
        others = torch.randperm(Kall, generator=gen)
        others = others[~torch.isin(others, present)][:max(0, cfg["s2_k"] - len(present))]
        ks = torch.cat([present, others])
        K = len(ks)
        ids, tm = ids_all[ks].clone(), tm_all[ks]
        ex = torch.zeros(K, E, model.exdim)
        em = torch.zeros(K, E, dtype=torch.long)
        for j, k in enumerate(ks.tolist()):
            if torch.rand(1, generator=gen).item() >= cfg["s2_p_exemplars"]:
                continue
            cand = by_cat[k]
            cand = cand[~torch.isin(cache["bank_img"][cand], idx)]   # exemplars from other images
            if len(cand) == 0:
                continue
            ne = int(torch.randint(1, E + 1, (1,), generator=gen))
            pick = cand[torch.randperm(len(cand), generator=gen)[:ne]]
            ex[j, :len(pick)] = cache["bank"][pick]
            em[j, :len(pick)] = 1
        if mlm:
            has = (em.sum(1) > 0).view(-1, 1)
            m = (torch.rand(ids.shape, generator=gen) < cfg["mask_p"]) & (tm > 0) & has
            ids[m] = tok.mask_id
        r = cache["R"][idx].float()
        img = cache["I"][idx]
        q, gates = model.encode_queries(img, ids, tm, ex, em, True)
        logits = model.score(r, q)
        # targets restricted to the categories of this step
        remap = torch.full((Kall + 1,), -1, dtype=torch.long)
        remap[ks] = torch.arange(K)
        labk = remap[lab.clamp(min=0)]
        labk[lab < 0] = -1
        onehot = torch.zeros_like(logits)
        pos = labk >= 0
        onehot[pos, labk[pos]] = 1.0
        loss = focal_loss(logits, onehot) / max(1.0, float(pos.sum()))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        if step % 100 == 0 or step == cfg["s2_steps"] - 1:
            gv = " ".join(f"{(g.squeeze(-1) * tm.float().repeat(cfg['s2_batch'], 1)).sum().item() / max(1, tm.sum().item() * cfg['s2_batch']):+.3f}" for g in gates)
            ffg = " ".join(f"{torch.tanh(b.ff_gate).item():+.3f}" for b in model.gcp_blocks())
            log(f"stage2{'' if mlm else '(no-mlm)'} step {step}/{cfg['s2_steps']} loss {loss.item():.4f} "
                f"attn-gate {gv} ff-gate {ffg} {time.time() - t0:.0f}s")
    for p in model.parameters():
        p.requires_grad_(False)
    for b in model.gcp_blocks():
        b.zero_without_exemplars = True
    model.eval()


def save_ckpt(path, model, cfg, tok, cats):
    torch.save(dict(state=model.state_dict(), cfg=cfg, vocab=tok.vocab, cats=cats), path)


def load_ckpt(path):
    ck = torch.load(path)
    tok = Tokenizer(ck["vocab"])
    model = MQDet(vocab_size=len(tok.vocab), max_tokens=ck["cfg"]["max_tokens"])
    model.load_state_dict(ck["state"])
    model.eval()
    return model, tok, ck["cfg"], ck["cats"]
