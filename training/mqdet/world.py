"""Synthetic detection world for the MQ-Det reference model.

Everything here is deterministic given a seed.

Objects are built from four attributes:
  shape   (circle, square, triangle, diamond, hexagon, star)
  colour  (red, green, blue, yellow, purple, orange)
  pattern (solid, striped, dotted)
  detail  (none, ringed = dark outline, eyed = small dark dot in the centre)  <- the "finer details"

A category is one combination of attributes.  Its name is compositional
("ringed red striped star") except for two deliberately hard novel groups:

* rare:      names are words the text encoder never saw ("cyprinodon diabolis") and the
             look differs from other (base) categories only by the fine detail;
* ambiguous: pairs of categories that share one name ("striped star") but look different
             (different colours) -- the "bat" case.

Base categories are used for training, novel ones (common / rare / ambiguous) only for
evaluation.  Annotations are produced in COCO format (bbox = [x, y, w, h], pixels).
"""
import math
import numpy as np
from PIL import Image, ImageDraw

SHAPES = ["circle", "square", "triangle", "diamond", "hexagon", "star"]
COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"]
PATTERNS = ["solid", "striped", "dotted"]
DETAILS = ["none", "ringed", "eyed"]

RGB = {
    "red": (214, 40, 40),
    "green": (40, 160, 70),
    "blue": (45, 85, 215),
    "yellow": (232, 205, 40),
    "purple": (145, 60, 185),
    "orange": (240, 135, 30),
}

RARE_NAMES = [
    "cyprinodon diabolis",
    "cyprinodon nevadensis",
    "xenopoecilus poptae",
    "tristramella sacra",
    "chasmistes muriei",
    "pantanodon madagascariensis",
]

MIN_SIDE, MAX_SIDE = 256, 320   # image sides are drawn from this range
OBJ_MIN, OBJ_MAX = 28, 62       # object box side


def attr_name(shape, colour, pattern, detail):
    words = [] if detail == "none" else [detail]
    return " ".join(words + [colour, pattern, shape])


def build_categories(seed=0, n_base=90, n_common=10, n_rare=6, n_amb_pairs=3):
    """Returns the list of category dicts (COCO style plus attributes and split)."""
    rng = np.random.RandomState(seed)
    combos = [(s, c, p, d) for s in SHAPES for c in COLOURS for p in PATTERNS for d in DETAILS]
    taken = set()
    cats = []

    def add(combo, name, split):
        taken.add(combo)
        s, c, p, d = combo
        cats.append(dict(id=len(cats) + 1, name=name, split=split,
                         shape=s, colour=c, pattern=p, detail=d))

    # rare: a detailed combo whose detail-free twin is a base category (the look-alike)
    order = rng.permutation(len(combos))
    rare, twins = [], []
    for i in order:
        s, c, p, d = combos[i]
        if d == "none" or (s, c, p, "none") in twins or any(r[0] == s and r[1] == c for r in rare):
            continue
        rare.append(combos[i]); twins.append((s, c, p, "none"))
        if len(rare) == n_rare:
            break
    # ambiguous pairs: same shape / pattern / detail, two colours, one shared name
    amb = []
    for i in rng.permutation(len(combos)):
        s, c, p, d = combos[i]
        if d != "none" or any(a[0][0] == s for a in amb):
            continue
        c2 = COLOURS[(COLOURS.index(c) + 1 + rng.randint(len(COLOURS) - 1)) % len(COLOURS)]
        pair = ((s, c, p, d), (s, c2, p, d))
        if any(x in rare or x in twins for x in pair):
            continue
        amb.append(pair)
        if len(amb) == n_amb_pairs:
            break
    reserved = set(rare) | {x for pr in amb for x in pr}
    # everything else: base (with twins forced in) and common novel
    rest = [combos[i] for i in rng.permutation(len(combos)) if combos[i] not in reserved]
    base = list(twins) + [c for c in rest if c not in twins]
    base = base[:n_base]
    common = []
    for c in rest:
        if c in base or c in common:
            continue
        common.append(c)
        if len(common) == n_common:
            break
    for combo in base:
        add(combo, attr_name(*combo), "base")
    for combo in common:
        add(combo, attr_name(*combo), "common")
    for combo, name in zip(rare, RARE_NAMES):
        add(combo, name, "rare")
    for a, b in amb:
        name = f"{a[2]} {a[0]}"  # e.g. "striped star": true of both, tells them apart not
        add(a, name, "ambiguous")
        add(b, name, "ambiguous")
    # check that every common-novel word occurs in some base name
    base_words = {w for c in cats if c["split"] == "base" for w in c["name"].split()}
    for c in cats:
        if c["split"] == "common":
            assert set(c["name"].split()) <= base_words, c
    return cats


# ----------------------------------------------------------------------------- drawing

def _shape_mask(shape, w, h):
    im = Image.new("L", (w, h), 0)
    dr = ImageDraw.Draw(im)
    W, H = w - 1, h - 1
    if shape == "circle":
        dr.ellipse([0, 0, W, H], fill=255)
    elif shape == "square":
        dr.rectangle([0, 0, W, H], fill=255)
    elif shape == "triangle":
        dr.polygon([(W / 2, 0), (W, H), (0, H)], fill=255)
    elif shape == "diamond":
        dr.polygon([(W / 2, 0), (W, H / 2), (W / 2, H), (0, H / 2)], fill=255)
    elif shape == "hexagon":
        dr.polygon([(W / 4, 0), (3 * W / 4, 0), (W, H / 2), (3 * W / 4, H), (W / 4, H), (0, H / 2)], fill=255)
    elif shape == "star":
        pts = []
        for k in range(10):
            r = 1.0 if k % 2 == 0 else 0.45
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((W / 2 + r * W / 2 * math.cos(a), H / 2 + r * H / 2 * math.sin(a) * 1.05 + H * 0.03))
        dr.polygon(pts, fill=255)
    else:
        raise ValueError(shape)
    return np.asarray(im) > 127


def _erode(m, r):
    out = m.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out &= np.roll(np.roll(m, dy, 0), dx, 1)
    out[:r, :] = False; out[-r:, :] = False; out[:, :r] = False; out[:, -r:] = False
    return out


def render_object(rng, cat, w, h):
    """Returns (rgb uint8 [h,w,3], mask bool [h,w]) of one object."""
    mask = _shape_mask(cat["shape"], w, h)
    base = np.array(RGB[cat["colour"]], np.float32) + rng.uniform(-14, 14, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    if cat["pattern"] == "striped":
        ang = rng.choice([0, 45, 90, 135]) * math.pi / 180
        per = rng.uniform(6, 8.5)
        ph = rng.uniform(0, per)
        t = (xx * math.cos(ang) + yy * math.sin(ang) + ph) % per
        img[t < per / 2] = base * 0.45
    elif cat["pattern"] == "dotted":
        sp = rng.uniform(6.5, 8.0)
        ox, oy = rng.uniform(0, sp, 2)
        dx = (xx + ox) % sp - sp / 2
        dy = (yy + oy) % sp - sp / 2
        img[dx * dx + dy * dy < 1.9 ** 2] = (245, 245, 240)
    if cat["detail"] == "ringed":
        ring = mask & ~_erode(mask, 2)
        img[ring] = (25, 25, 25)
    elif cat["detail"] == "eyed":
        cy, cx = h / 2 + (0.1 * h if cat["shape"] == "triangle" else 0), w / 2
        r = max(2.6, 0.09 * min(w, h))
        d2 = (xx - cx) ** 2 + (yy - cy) ** 2
        img[d2 < (r + 1.6) ** 2] = (240, 240, 240)
        img[d2 < r ** 2] = (20, 20, 20)
    return np.clip(img, 0, 255).astype(np.uint8), mask


def _muted(rng):
    g = rng.uniform(70, 190)
    return tuple(int(np.clip(g + rng.uniform(-22, 22), 0, 255)) for _ in range(3))


def render_background(rng, w, h):
    c0 = np.array(_muted(rng), np.float32)
    c1 = np.array(_muted(rng), np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx * math.cos(ang) + yy * math.sin(ang))
    t = (t - t.min()) / max(1e-6, t.max() - t.min())
    arr = (c0[None, None] * (1 - t[..., None]) + c1[None, None] * t[..., None]).astype(np.uint8)
    im = Image.fromarray(arr)
    dr = ImageDraw.Draw(im)
    for _ in range(rng.randint(14, 30)):
        kind = rng.randint(4)
        col = _muted(rng)
        x0, y0 = rng.uniform(-20, w), rng.uniform(-20, h)
        sw, sh = rng.uniform(8, 70, 2)
        if kind == 0:
            dr.line([(x0, y0), (x0 + rng.uniform(-90, 90), y0 + rng.uniform(-90, 90))],
                    fill=col, width=int(rng.randint(1, 4)))
        elif kind == 1:
            dr.ellipse([x0, y0, x0 + sw, y0 + sh], fill=col)
        elif kind == 2:
            dr.rectangle([x0, y0, x0 + sw, y0 + sh], fill=col)
        else:
            n = rng.randint(3, 7)
            pts = [(x0 + rng.uniform(0, sw), y0 + rng.uniform(0, sh)) for _ in range(n)]
            dr.polygon(pts, fill=col)
    return np.asarray(im).copy()


def render_scene(rng, cats_in_scene):
    """cats_in_scene: list of category dicts to place (some may fail to fit and are dropped).
    Returns (rgb uint8 [H,W,3], list of (cat, [x,y,w,h]))."""
    W = int(rng.randint(MIN_SIDE, MAX_SIDE + 1))
    H = int(rng.randint(MIN_SIDE, MAX_SIDE + 1))
    img = render_background(rng, W, H)
    boxes, placed = [], []
    for cat in cats_in_scene:
        s = rng.uniform(OBJ_MIN, OBJ_MAX)
        ar = rng.uniform(0.8, 1.25)
        ow, oh = int(round(s * math.sqrt(ar))), int(round(s / math.sqrt(ar)))
        ow, oh = max(OBJ_MIN - 4, min(ow, OBJ_MAX + 6)), max(OBJ_MIN - 4, min(oh, OBJ_MAX + 6))
        for _ in range(60):
            x, y = int(rng.randint(2, W - ow - 2)), int(rng.randint(2, H - oh - 2))
            if all(x + ow + 3 < bx or bx + bw + 3 < x or y + oh + 3 < by or by + bh + 3 < y
                   for bx, by, bw, bh in boxes):
                break
        else:
            continue
        patch, mask = render_object(rng, cat, ow, oh)
        region = img[y:y + oh, x:x + ow]
        region[mask] = patch[mask]
        ys, xs = np.nonzero(mask)
        bx0, by0 = x + xs.min(), y + ys.min()
        bw, bh = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
        boxes.append((x, y, ow, oh))
        placed.append((cat, [float(bx0), float(by0), float(bw), float(bh)]))
    return img, placed


def train_scene(seed, index, base_cats):
    rng = np.random.RandomState([seed, 1, index])
    n = rng.randint(3, 8)
    chosen = [base_cats[i] for i in rng.randint(0, len(base_cats), n)]
    return render_scene(rng, chosen)


def twin_of(cat, cats):
    """Base categories that look like `cat` up to the fine detail / colour (distractors)."""
    out = []
    for c in cats:
        if c["split"] != "base":
            continue
        if cat["split"] == "rare" and (c["shape"], c["colour"], c["pattern"]) == (cat["shape"], cat["colour"], cat["pattern"]):
            out.append(c)
        if cat["split"] == "ambiguous" and (c["shape"], c["pattern"]) == (cat["shape"], cat["pattern"]):
            out.append(c)
    return out


def eval_scene(seed, index, cats, tag=2):
    """A scene with held-out novel objects plus look-alike base distractors."""
    rng = np.random.RandomState([seed, tag, index])
    novel = [c for c in cats if c["split"] != "base"]
    base = [c for c in cats if c["split"] == "base"]
    n = rng.randint(4, 8)
    chosen = []
    for _ in range(n):
        u = rng.uniform()
        if u < 0.6:
            chosen.append(novel[rng.randint(len(novel))])
        elif u < 0.85:
            nov = novel[rng.randint(len(novel))]
            tw = twin_of(nov, cats)
            chosen.append(tw[rng.randint(len(tw))] if tw else base[rng.randint(len(base))])
        else:
            chosen.append(base[rng.randint(len(base))])
    return render_scene(rng, chosen)


def exemplar_scenes(seed, cats, shots=5):
    """Scenes that hold the exemplars of the novel categories: `shots` instances per category,
    each from a different image.  Returns list of (img, placed, {cat_id: ann_index})."""
    rng = np.random.RandomState([seed, 3])
    novel = [c for c in cats if c["split"] != "base"]
    base = [c for c in cats if c["split"] == "base"]
    out = []
    idx = 0
    for shot in range(shots):
        order = [novel[i] for i in rng.permutation(len(novel))]
        for g in range(0, len(order), 5):
            group = order[g:g + 5]
            srng = np.random.RandomState([seed, 4, idx])
            idx += 1
            extra = [base[srng.randint(len(base))] for _ in range(srng.randint(1, 3))]
            for _try in range(20):
                img, placed = render_scene(srng, group + extra)
                got = [p[0]["id"] for p in placed]
                if all(c["id"] in got for c in group):
                    break
            else:
                raise RuntimeError("could not place exemplar group")
            out.append((img, placed, [c["id"] for c in group]))
    return out
