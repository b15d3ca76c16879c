"""Held-out evaluation set on disk: PNG scenes + COCO annotations.json with split tags and the
5 exemplars (image + box) of every novel category."""
import json
import os

from PIL import Image

from . import world

N_EVAL_IMAGES = 150
SHOTS = 5


def export_eval_set(out_dir, seed=0, n_images=N_EVAL_IMAGES, shots=SHOTS):
    cats = world.build_categories(seed)
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "exemplars"), exist_ok=True)
    images, anns, ex_images, exemplars = [], [], [], []
    novel_ids = {c["id"] for c in cats if c["split"] != "base"}
    for i in range(n_images):
        img, placed = world.eval_scene(seed, i, cats)
        fn = f"images/eval_{i:04d}.png"
        Image.fromarray(img).save(os.path.join(out_dir, fn), optimize=True)
        images.append(dict(id=i + 1, file_name=fn, width=img.shape[1], height=img.shape[0]))
        for c, b in placed:
            # all objects are annotated; evaluation uses the novel categories only
            anns.append(dict(id=len(anns) + 1, image_id=i + 1, category_id=c["id"], bbox=b,
                             area=b[2] * b[3], iscrowd=0))
    for j, (img, placed, group) in enumerate(world.exemplar_scenes(seed, cats, shots)):
        fn = f"exemplars/exemplar_{j:04d}.png"
        Image.fromarray(img).save(os.path.join(out_dir, fn), optimize=True)
        ex_images.append(dict(id=j + 1, file_name=fn, width=img.shape[1], height=img.shape[0]))
        for c, b in placed:
            if c["id"] in group:
                exemplars.append(dict(id=len(exemplars) + 1, image_id=j + 1, category_id=c["id"], bbox=b))
    categories = [dict(id=c["id"], name=c["name"], split=c["split"], supercategory=c["split"],
                       evaluate=c["id"] in novel_ids,
                       attributes=dict(shape=c["shape"], colour=c["colour"], pattern=c["pattern"], detail=c["detail"]))
                  for c in cats]
    doc = dict(
        info=dict(description="MQ-Det synthetic world, held-out evaluation set", version="1", world_seed=seed,
                  note="Evaluate the categories with evaluate=true (split common/rare/ambiguous); "
                       "'exemplars' holds the 5 exemplar boxes per evaluated category, taken from the "
                       "separate 'exemplar_images'. bbox = [x,y,w,h] in image pixels."),
        images=images, annotations=anns, categories=categories,
        exemplar_images=ex_images, exemplars=exemplars)
    with open(os.path.join(out_dir, "annotations.json"), "w") as f:
        json.dump(doc, f, indent=1)
    return doc


def load_eval_set(d):
    with open(os.path.join(d, "annotations.json")) as f:
        return json.load(f)
