"""COCO-style box AP written from the COCOeval algorithm (no pycocotools here).

Rules (the Java port must follow the same):
* IoU thresholds 0.50:0.05:0.95 (10), recall thresholds 0:0.01:1 (101), area range "all",
  maxDets = 100 per image and per category (highest scores first), no crowd / ignore regions.
* Boxes are [x, y, w, h] in pixels; IoU = inter / (area_a + area_b - inter) with continuous
  coordinates (no +1).
* Per image and category: detections sorted by score (descending, stable), each matched greedily
  to the unmatched ground truth with the highest IoU >= threshold.
* Per category: detections of all images concatenated and sorted by score (descending, stable
  "mergesort" as in COCOeval); precision made monotone from the right; for each of the 101
  recall thresholds r, precision = envelope at the first index where recall >= r (0 if never);
  AP = mean of those 101 values.  AP50 = the same at IoU 0.50 only.
* A category with no ground truth is skipped; AP of a set = mean over its categories, then over
  IoU thresholds.  Reported in percent.
"""
import numpy as np

IOU_THRS = np.linspace(0.5, 0.95, 10)
REC_THRS = np.linspace(0.0, 1.0, 101)


def iou_xywh(d, g):
    d = np.asarray(d, np.float64).reshape(-1, 4)
    g = np.asarray(g, np.float64).reshape(-1, 4)
    if len(d) == 0 or len(g) == 0:
        return np.zeros((len(d), len(g)))
    dx1, dy1 = d[:, 0:1] + d[:, 2:3], d[:, 1:2] + d[:, 3:4]
    gx1, gy1 = g[:, 0] + g[:, 2], g[:, 1] + g[:, 3]
    iw = np.clip(np.minimum(dx1, gx1) - np.maximum(d[:, 0:1], g[:, 0]), 0, None)
    ih = np.clip(np.minimum(dy1, gy1) - np.maximum(d[:, 1:2], g[:, 1]), 0, None)
    inter = iw * ih
    union = d[:, 2:3] * d[:, 3:4] + g[:, 2] * g[:, 3] - inter
    return inter / np.maximum(union, 1e-12)


def evaluate(gts, dets, cat_ids, max_dets=100):
    """gts: list of {image_id, category_id, bbox}; dets: list of {image_id, category_id, bbox, score}.
    Returns dict cat_id -> (ap over 10 IoUs as array[10]) for categories with ground truth."""
    from collections import defaultdict
    G, D = defaultdict(list), defaultdict(list)
    for g in gts:
        G[(g["image_id"], g["category_id"])].append(g["bbox"])
    for d in dets:
        D[(d["image_id"], d["category_id"])].append((d["score"], d["bbox"]))
    images = sorted({k[0] for k in G} | {k[0] for k in D})
    out = {}
    T = len(IOU_THRS)
    for c in cat_ids:
        npos = sum(len(G.get((i, c), [])) for i in images)
        if npos == 0:
            continue
        scores, matched = [], []
        for i in images:
            dl = D.get((i, c), [])
            if not dl:
                continue
            sc = np.array([s for s, _ in dl])
            order = np.argsort(-sc, kind="mergesort")[:max_dets]
            db = [dl[j][1] for j in order]
            gb = G.get((i, c), [])
            ious = iou_xywh(db, gb)
            m = np.zeros((T, len(db)), bool)
            for t, thr in enumerate(IOU_THRS):
                used = np.zeros(len(gb), bool)
                for di in range(len(db)):
                    best, bj = min(thr, 1 - 1e-10), -1
                    for gj in range(len(gb)):
                        if used[gj] or ious[di, gj] < best:
                            continue
                        best, bj = ious[di, gj], gj
                    if bj >= 0:
                        used[bj] = True
                        m[t, di] = True
            scores.append(sc[order])
            matched.append(m)
        ap = np.zeros(T)
        if scores:
            sc = np.concatenate(scores)
            mm = np.concatenate(matched, axis=1)
            order = np.argsort(-sc, kind="mergesort")
            mm = mm[:, order]
            for t in range(T):
                tp = np.cumsum(mm[t]).astype(np.float64)
                fp = np.cumsum(~mm[t]).astype(np.float64)
                rc = tp / npos
                pr = tp / (tp + fp + np.spacing(1))
                pr = np.maximum.accumulate(pr[::-1])[::-1]
                idx = np.searchsorted(rc, REC_THRS, side="left")
                q = np.array([pr[j] if j < len(pr) else 0.0 for j in idx])
                ap[t] = q.mean()
        out[c] = ap
    return out


def summarize(per_cat, cat_ids):
    """-> (AP, AP50) in percent, mean over the given categories that have ground truth."""
    aps = [per_cat[c] for c in cat_ids if c in per_cat]
    if not aps:
        return float("nan"), float("nan")
    a = np.stack(aps)
    return float(a.mean() * 100), float(a[:, 0].mean() * 100)
