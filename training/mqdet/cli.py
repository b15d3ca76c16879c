"""Command line: train | eval | smoke | export-eval-set | test   (see training/README.md)."""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAINING)
DEFAULT_MODEL = os.path.join(ROOT, "models", "mqdet-synth-v1")
DEFAULT_EVAL = os.path.join(ROOT, "models", "synth-eval")
WORK = os.path.join(TRAINING, "work")


class Logger:
    def __init__(self, path=None, quiet=False):
        self.f = open(path, "a") if path else None
        self.quiet = quiet
        self.t0 = time.time()

    def __call__(self, msg):
        line = f"[{time.time() - self.t0:7.1f}s] {msg}"
        if not self.quiet:
            print(line, flush=True)
        if self.f:
            self.f.write(line + "\n"); self.f.flush()


@torch.no_grad()
def gate_report(model, eval_dir, n_images=16):
    """Mean learned gate values on eval images, multimodal mode (text + 5 exemplars)."""
    from .evaluate import exemplar_bank, load_image, mode_inputs
    from .model import ExemplarEncoder
    from .tokenizer import Tokenizer
    doc = json.load(open(os.path.join(eval_dir, "annotations.json")))
    cats = [c for c in doc["categories"] if c.get("evaluate")]
    ids_c = [c["id"] for c in cats]
    enc = ExemplarEncoder(model).eval()
    ex, em = exemplar_bank(enc, doc, eval_dir, ids_c, 5)
    tok = model._tok
    out = {}
    for mode in ["multimodal", "vision"]:
        ids, tm, ex_, em_ = mode_inputs(mode, tok, [c["name"] for c in cats], model.max_tokens, ex, em, 3)
        xs = torch.stack([load_image(os.path.join(eval_dir, im["file_name"]))[0] for im in doc["images"][:n_images]])
        _, r, _, img = model.image_features(xs)
        _, gates = model.encode_queries(img, ids, tm, ex_, em_, True)
        w = tm.float().unsqueeze(0).expand(xs.shape[0], -1, -1).reshape(-1, tm.shape[1])
        out[mode] = [round(float((g.squeeze(-1) * w).sum() / w.sum()), 4) for g in gates]
    return {"attn_gate_mean_tanh": out["multimodal"], "attn_gate_mean_tanh_vision_only": out["vision"],
            "ff_gate_tanh": [round(float(torch.tanh(b.ff_gate)), 4) for b in model.gcp_blocks()],
            "note": "attn gate = tanh(w . x) per text token (mean over the name tokens of the evaluated novel "
                    "categories, 16 eval images, 5 exemplars); ff gate = tanh(alpha). Both start at 0."}


def max_diff(a, b):
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


@torch.no_grad()
def parity(model, pkg_dir, eval_dir=None, seed=0):
    """Eager vs TorchScript (saved + reloaded) on real-looking inputs.  Returns max abs diffs."""
    from .model import ExemplarEncoder
    g = torch.Generator().manual_seed(seed)
    det = torch.jit.load(os.path.join(pkg_dir, "detector.pt"))
    enc = torch.jit.load(os.path.join(pkg_dir, "exemplar_encoder.pt"))
    x = torch.randn(2, 3, model.image_size, model.image_size, generator=g)
    boxes = torch.tensor([[10., 20., 60., 70.], [100., 100., 140., 160.], [0., 0., 319., 319.]])
    e_eager = ExemplarEncoder(model).eval()(x[:1], boxes)
    e_script = enc(x[:1], boxes)
    K, L, E = 7, model.max_tokens, 5
    ids = torch.randint(1, model.tok_emb.num_embeddings, (K, L), generator=g)
    tm = (torch.arange(L).view(1, L) < torch.randint(1, L + 1, (K, 1), generator=g)).long()
    ex = e_eager[torch.randint(0, 3, (K, E), generator=g)] + 0.1 * torch.randn(K, E, model.exdim, generator=g)
    em = (torch.rand(K, E, generator=g) < 0.7).long()
    em[0] = 0
    out_e = model(x, ids, tm, ex, em)
    out_s = det(x, ids, tm, ex, em)
    # chunking exactness: categories 0..3 and 3..7 in two forwards == one forward
    a = det(x, ids[:3], tm[:3], ex[:3], em[:3])[1]
    b = det(x, ids[3:], tm[3:], ex[3:], em[3:])[1]
    chunk = float((torch.cat([a, b], 2) - out_s[1]).abs().max())
    return {"exemplar_encoder": max_diff([e_eager], [e_script]), "detector": max_diff(out_e, out_s),
            "chunking": chunk, "shapes": {"boxes": list(out_s[0].shape), "logits": list(out_s[1].shape),
                                          "exemplar_feats": list(e_script.shape)}}


def cmd_export_eval_set(args):
    from .evalset import export_eval_set
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    doc = export_eval_set(args.out, seed=args.seed)
    n = sum(1 for c in doc["categories"] if c["evaluate"])
    print(f"wrote {args.out}: {len(doc['images'])} images, {len(doc['annotations'])} boxes, "
          f"{n} evaluated categories, {len(doc['exemplar_images'])} exemplar images, {len(doc['exemplars'])} exemplars")


def cmd_eval(args):
    from .evaluate import run_eval, format_table
    torch.set_num_threads(args.threads)
    res = run_eval(args.model, args.eval_set)
    if args.json:
        print(json.dumps({"splits": res["splits"]}))
    else:
        print(format_table(res, f"COCO AP / AP50 (%) on held-out novel categories, 5 exemplars per category\n"
                                f"model {os.path.relpath(args.model, os.getcwd())}, eval set {os.path.relpath(args.eval_set, os.getcwd())}\n"))


def train_pipeline(cfg, out_dir, eval_dir, log, ablation=True, resume_stage1=None):
    from . import train as T
    from .data import TrainSet
    from .evaluate import run_eval, format_table
    from .export import export_package, package_size
    os.makedirs(WORK, exist_ok=True)
    t_start = time.time()
    T.seed_all(cfg["seed"])
    cats, base, tok = T.setup(cfg)
    log(f"world: {len(base)} base categories, {len(cats) - len(base)} novel; vocab {len(tok.vocab)} words")
    if not os.path.exists(os.path.join(eval_dir, "annotations.json")):
        from .evalset import export_eval_set
        export_eval_set(eval_dir, seed=cfg["world_seed"])
    if resume_stage1:
        # resume from a stage-1 checkpoint written by an earlier `train` with the same config
        model, tok1, cfg1, _ = T.load_ckpt(resume_stage1)
        assert tok1.vocab == tok.vocab and all(cfg1[k] == cfg[k] for k in cfg if k.startswith(("s1", "n_train", "seed", "world"))), "config mismatch"
        n_needed = cfg["n_stage2"]
        data = TrainSet(cfg["world_seed"], n_needed, cats)   # scenes 0..n-1 are identical to the full set
        log(f"resumed stage 1 from {resume_stage1}; regenerated {len(data)} scenes for stage 2")
        t1 = float("nan")
    else:
        data = TrainSet(cfg["world_seed"], cfg["n_train"], cats)
        log(f"generated {len(data)} training scenes")
        model = T.new_model(cfg, tok)
        T.stage1(model, data, tok, cfg, log)
        t1 = time.time() - t_start
        T.save_ckpt(os.path.join(WORK, "stage1.pt"), model, cfg, tok, cats)
        log(f"stage 1 done in {t1:.0f}s")
    cache = T.build_stage2_cache(model, data, cfg, log)
    del data
    stage1_state = {k: v.clone() for k, v in model.state_dict().items()}
    results = {}
    if ablation:
        log("stage 2 ablation: GCP training WITHOUT masked language prediction")
        T.stage2(model, cache, tok, base, cfg, log, mlm=False)
        abl_dir = os.path.join(WORK, "ablation-no-mlm")
        export_package(model, tok, cfg, abl_dir, "mqdet-synth-v1-ablation-no-mlm")
        model._tok = tok
        results["ablation_no_mlm"] = run_eval(abl_dir, eval_dir, log=log)
        results["ablation_no_mlm"]["gates"] = gate_report(model, eval_dir)
        model.load_state_dict(stage1_state)
    log("stage 2: GCP training with vision-conditioned masked language prediction (p=%.2f)" % cfg["mask_p"])
    T.stage2(model, cache, tok, base, cfg, log, mlm=True)
    T.save_ckpt(os.path.join(WORK, "final.pt"), model, cfg, tok, cats)
    train_time = time.time() - t_start
    tmp = out_dir + ".tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    export_package(model, tok, cfg, tmp, os.path.basename(out_dir))
    par = parity(model, tmp)
    log(f"parity eager vs TorchScript: {par}")
    res = run_eval(tmp, eval_dir, log=log)
    model._tok = tok
    gates = gate_report(model, eval_dir)
    log(f"gates: {gates}")
    results["main"] = res
    results["main"]["gates"] = gates
    extra = {"reference_eval": {
        "command": "training/run eval --json", "eval_set": "models/synth-eval", "exemplars_per_category": 5,
        "metric": "COCO AP (IoU .50:.05:.95) and AP50, percent, mean over categories of each split",
        "splits": res["splits"], "gates": gates,
        "ablation_no_masked_language_training": results.get("ablation_no_mlm", {}).get("splits"),
        "train_seconds": round(train_time), "stage1_seconds": None if t1 != t1 else round(t1),
        "torchscript_max_abs_diff": {k: par[k] for k in ("detector", "exemplar_encoder", "chunking")},
    }, "training_config": cfg}
    export_package(model, tok, cfg, tmp, os.path.basename(out_dir), extra=extra)
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.rename(tmp, out_dir)
    size = package_size(out_dir)
    log(f"package {out_dir}: {size / 1e6:.2f} MB; total train+export+eval {time.time() - t_start:.0f}s "
        f"(training {train_time:.0f}s)")
    results["train_seconds"] = train_time
    results["package_bytes"] = size
    results["parity"] = par
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(format_table(res, "\nshipped model (with masked language training):"))
    if "ablation_no_mlm" in results:
        print(format_table(results["ablation_no_mlm"], "\nablation (stage 2 without masked language training):"))
    return results


def cmd_train(args):
    from .train import DEFAULT
    torch.set_num_threads(args.threads)
    cfg = dict(DEFAULT)
    os.makedirs(WORK, exist_ok=True)
    log = Logger(os.path.join(WORK, "train.log"))
    log(f"config {json.dumps(cfg)}")
    train_pipeline(cfg, args.out, args.eval_set, log, ablation=args.ablation,
                   resume_stage1=os.path.abspath(args.resume_stage1) if args.resume_stage1 else None)


def cmd_smoke(args):
    """A few steps of both stages, export, reload, shapes, parity, chunking, a tiny eval."""
    from . import train as T
    from .data import TrainSet
    from .evalset import export_eval_set
    from .evaluate import run_eval
    from .export import export_package, package_size
    torch.set_num_threads(args.threads)
    t0 = time.time()
    log = Logger(quiet=False)
    cfg = dict(T.DEFAULT, n_train=48, s1_steps=3, s1_batch=4, n_stage2=16, s2_steps=3, s2_batch=4, s2_k=16)
    tmp = tempfile.mkdtemp(prefix="mqdet-smoke-")
    ok = True
    try:
        T.seed_all(0)
        cats, base, tok = T.setup(cfg)
        data = TrainSet(0, cfg["n_train"], cats)
        model = T.new_model(cfg, tok)
        T.stage1(model, data, tok, cfg, log)
        cache = T.build_stage2_cache(model, data, cfg, log)
        T.stage2(model, cache, tok, base, cfg, log, mlm=True)
        # a few steps leave the gates near 0; open them so that parity and the text-only check
        # exercise the GCP path for real
        with torch.no_grad():
            for b in model.gcp_blocks():
                b.gate.weight.normal_(0, 0.5, generator=torch.Generator().manual_seed(1))
                b.ff_gate.fill_(0.5)
        pkg = os.path.join(tmp, "pkg")
        meta = export_package(model, tok, cfg, pkg, "smoke")
        par = parity(model, pkg)
        log(f"parity {par}")
        D = meta["exemplars"]["feature_dim"]
        N = (meta["image"]["height"] // model.stride) ** 2
        checks = {
            "detector parity < 1e-4": par["detector"] < 1e-4,
            "exemplar encoder parity < 1e-4": par["exemplar_encoder"] < 1e-4,
            "chunking exact < 1e-5": par["chunking"] < 1e-5,
            "boxes shape": par["shapes"]["boxes"] == [2, N, 4],
            "logits shape": par["shapes"]["logits"] == [2, N, 7],
            "exemplar shape": par["shapes"]["exemplar_feats"] == [3, D],
            "package files": all(os.path.exists(os.path.join(pkg, f)) for f in
                                 ["detector.pt", "exemplar_encoder.pt", "tokenizer.json", "model.json"]),
            "package <= 25 MB": package_size(pkg) <= 25e6,
        }
        # text-only == stage-1 behaviour: a category without exemplars is untouched by GCP
        det = torch.jit.load(os.path.join(pkg, "detector.pt"))
        x = torch.randn(1, 3, 320, 320)
        ids, tm = T.encode_names(tok, [base[0]["name"], base[1]["name"]], cfg["max_tokens"])
        ex = torch.randn(2, 5, D); em0 = torch.zeros(2, 5, dtype=torch.long)
        with torch.no_grad():
            _, r, _, img = model.image_features(x)
            q, _ = model.encode_queries(img, ids, tm, ex, em0, False)
            ref = model.score(r, q)
            got = det(x, ids, tm, ex, em0)[1]
        checks["text-only path ignores GCP"] = float((ref - got).abs().max()) < 1e-4
        with torch.no_grad():
            got_mm = det(x, ids, tm, ex, torch.ones(2, 5, dtype=torch.long))[1]
        checks["exemplars change the scores (GCP active)"] = float((ref - got_mm).abs().max()) > 1e-3
        ev = os.path.join(tmp, "eval")
        export_eval_set(ev, seed=0, n_images=2)
        res = run_eval(pkg, ev)
        checks["eval json layout"] = all(set(res["splits"][s]) == {"text", "vision", "multimodal"}
                                         for s in ["common", "rare", "ambiguous"])
        for k, v in checks.items():
            log(f"{'PASS' if v else 'FAIL'} {k}")
            ok &= bool(v)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"smoke {'OK' if ok else 'FAILED'} in {time.time() - t0:.1f}s")
    sys.exit(0 if ok else 1)


def cmd_test(args):
    import unittest
    suite = unittest.defaultTestLoader.discover(os.path.join(TRAINING, "tests"))
    r = unittest.TextTestRunner(verbosity=1).run(suite)
    sys.exit(0 if r.wasSuccessful() else 1)


def main(argv=None):
    p = argparse.ArgumentParser(prog="training/run")
    p.add_argument("--threads", type=int, default=2)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="retrain the shipped model from scratch (both stages + ablation), export, eval")
    t.add_argument("--out", default=DEFAULT_MODEL)
    t.add_argument("--eval-set", default=DEFAULT_EVAL)
    t.add_argument("--ablation", action="store_true",
                   help="also run stage 2 without masked language training (from the same stage-1 weights) and report it")
    t.add_argument("--resume-stage1", default=None, help="skip stage 1: load this stage-1 checkpoint (same config)")
    e = sub.add_parser("eval", help="COCO AP table of a model package on the held-out set")
    e.add_argument("--json", action="store_true")
    e.add_argument("--model", default=DEFAULT_MODEL)
    e.add_argument("--eval-set", default=DEFAULT_EVAL)
    sub.add_parser("smoke", help="few steps, export, reload, checks (< 2 min)")
    x = sub.add_parser("export-eval-set", help="(re)write the held-out evaluation set")
    x.add_argument("--out", default=DEFAULT_EVAL)
    x.add_argument("--seed", type=int, default=0)
    sub.add_parser("test", help="unit tests")
    a = p.parse_args(argv)
    for k in ("out", "model", "eval_set"):
        if hasattr(a, k):
            setattr(a, k, os.path.abspath(getattr(a, k)))
    {"train": cmd_train, "eval": cmd_eval, "smoke": cmd_smoke, "export-eval-set": cmd_export_eval_set,
     "test": cmd_test}[a.cmd](a)


if __name__ == "__main__":
    main()
