"""Pre-processing (the contract the Java side follows) and in-memory training data."""
import numpy as np
import torch
from PIL import Image

from . import world

IMAGE_SIZE = 320
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)


def letterbox(img: Image.Image, size=IMAGE_SIZE):
    """RGB PIL image -> (uint8 array [size,size,3], scale, valid (w,h)).
    Rule: if the longer side exceeds `size`, resize (bilinear) so that it equals `size`;
    smaller images are NOT resized.  The image is placed at the top-left corner; the rest is
    padding, which is 0 after normalisation (i.e. pixel value = mean)."""
    img = img.convert("RGB")
    w, h = img.size
    scale = 1.0
    if max(w, h) > size:
        scale = size / max(w, h)
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR)
    arr = np.asarray(img)
    return arr, scale, (arr.shape[1], arr.shape[0])


def to_tensor(arr: np.ndarray, size=IMAGE_SIZE) -> torch.Tensor:
    """uint8 [h,w,3] (h,w <= size) -> normalised float32 [3,size,size], padding = 0."""
    out = torch.zeros(3, size, size)
    t = torch.from_numpy(np.array(arr, dtype=np.uint8)).permute(2, 0, 1).float() / 255.0
    t = (t - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
    out[:, :t.shape[1], :t.shape[2]] = t
    return out


def normalise_batch(u8: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """u8 [B,3,S,S] uint8 padded canvas, valid [B,2] (w,h) -> normalised float with padding 0."""
    x = (u8.float() / 255.0 - 0.5) / 0.25
    S = u8.shape[-1]
    ar = torch.arange(S)
    mh = ar.view(1, S, 1) < valid[:, 1].view(-1, 1, 1)
    mw = ar.view(1, 1, S) < valid[:, 0].view(-1, 1, 1)
    m = mh & mw
    return x * m.unsqueeze(1).float()


class TrainSet:
    """Base-category scenes held in memory as a padded uint8 canvas."""

    def __init__(self, seed, n, cats):
        self.cats = cats
        base = [c for c in cats if c["split"] == "base"]
        self.base = base
        self.cat_index = {c["id"]: i for i, c in enumerate(base)}
        self.images = torch.zeros(n, 3, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.uint8)
        self.valid = torch.zeros(n, 2, dtype=torch.long)
        self.boxes, self.labels = [], []
        for i in range(n):
            img, placed = world.train_scene(seed, i, base)
            h, w = img.shape[:2]
            self.images[i, :, :h, :w] = torch.from_numpy(img).permute(2, 0, 1)
            self.valid[i] = torch.tensor([w, h])
            b = torch.tensor([[x, y, x + bw, y + bh] for _, (x, y, bw, bh) in placed], dtype=torch.float32).view(-1, 4)
            self.boxes.append(b)
            self.labels.append(torch.tensor([self.cat_index[c["id"]] for c, _ in placed], dtype=torch.long))

    def __len__(self):
        return self.images.shape[0]

    def batch(self, idx):
        idx = list(idx)
        x = normalise_batch(self.images[idx], self.valid[idx])
        return x, [self.boxes[i] for i in idx], [self.labels[i] for i in idx]


def assign(boxes_list, labels_list, h, w, stride, radius=1.5):
    """FCOS-style assignment with centre sampling.  Returns labels [B,N] (-1 = background)
    and target boxes [B,N,4]."""
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) * stride
    cy = ys.view(h, 1).expand(h, w).reshape(-1)
    cx = xs.view(1, w).expand(h, w).reshape(-1)
    B, N = len(boxes_list), h * w
    lab = torch.full((B, N), -1, dtype=torch.long)
    tgt = torch.zeros(B, N, 4)
    for b, (bx, bl) in enumerate(zip(boxes_list, labels_list)):
        if len(bx) == 0:
            continue
        gcx = (bx[:, 0] + bx[:, 2]) / 2
        gcy = (bx[:, 1] + bx[:, 3]) / 2
        r = radius * stride
        inside = (cx[:, None] > bx[None, :, 0]) & (cx[:, None] < bx[None, :, 2]) & \
                 (cy[:, None] > bx[None, :, 1]) & (cy[:, None] < bx[None, :, 3])
        near = ((cx[:, None] - gcx[None]).abs() < r) & ((cy[:, None] - gcy[None]).abs() < r)
        ok = inside & near
        area = ((bx[:, 2] - bx[:, 0]) * (bx[:, 3] - bx[:, 1]))[None].expand(N, -1).clone()
        area[~ok] = 1e9
        best, gi = area.min(1)
        pos = best < 1e9
        lab[b, pos] = bl[gi[pos]]
        tgt[b] = bx[gi]
    return lab, tgt
