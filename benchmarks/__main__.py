"""Run a benchmark: ``python -m benchmarks NAME [--json] [--out DIR]``; NAME may be ``all``.

Each benchmark returns ``{"name", "wall_s", <figures>, "targets": {...}}``; with ``--out`` it
also writes its raw arrays there as ``.npy`` so that anyone can recompute the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from . import (autoencoders, conditional_gan, cyclegan, cyclegan_recipes, cyclegan_seeds, data, dcgan, denoising, diffusion,
               flows, gan_stall, gan_toy, hallucination, notebooks, spread, stacked, vae, vae_variants)

BENCHMARKS = {"data": data.run, "autoencoders": autoencoders.run, "denoising": denoising.run, "stacked": stacked.run,
              "vae": vae.run, "vae_variants": vae_variants.run, "gan_toy": gan_toy.run, "gan_stall": gan_stall.run,
              "dcgan": dcgan.run, "conditional_gan": conditional_gan.run, "hallucination": hallucination.run,
              "cyclegan": cyclegan.run, "cyclegan_recipes": cyclegan_recipes.run,
              "cyclegan_seeds": cyclegan_seeds.run, "flows": flows.run, "diffusion": diffusion.run,
              "notebooks": notebooks.run, "spread": spread.run}
TRAINS_MODELS = ("autoencoders", "denoising", "stacked", "vae", "vae_variants", "dcgan", "conditional_gan", "cyclegan",
                 "hallucination")  # these accept --from-checkpoints


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=[*BENCHMARKS, "all"])
    parser.add_argument("--json", action="store_true", help="print the result as JSON (default: a summary)")
    parser.add_argument("--out", type=Path, help="folder for the raw arrays (.npy)")
    parser.add_argument("--from-checkpoints", action="store_true",
                        help=f"{', '.join(TRAINS_MODELS)}: evaluate the shipped checkpoints instead of training anew")
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="spread: the training seeds to run every notebook with (default 0 1 2 3 4); "
                             "cyclegan_seeds: the training seeds (default 0 1)")
    parser.add_argument("--only", nargs="+", default=[], help="spread: only the notebooks whose path contains one of these")
    args = parser.parse_args()
    names = list(BENCHMARKS) if args.name == "all" else [args.name]
    results = []
    for name in names:
        out = args.out / name if args.out else None
        if out:
            out.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        kwargs = {"from_checkpoints": args.from_checkpoints} if name in TRAINS_MODELS else {}
        if name == "spread":
            kwargs = {"only": tuple(args.only)}
        if name in ("spread", "cyclegan_seeds") and args.seeds:  # else each benchmark's own default
            kwargs["seeds"] = tuple(args.seeds)
        result = {"name": name, **BENCHMARKS[name](out=out, **kwargs)}
        result["wall_s"] = round(time.perf_counter() - start, 1)
        results.append(result)
        if out:
            (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            met = all(result.get("targets", {}).values())
            print(f"{name}: {result['wall_s']} s, targets {'met' if met else 'NOT met'}: {result['targets']}", flush=True)


if __name__ == "__main__":
    main()
