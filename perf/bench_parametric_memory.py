"""Peak memory of `similarity.parametric` as the number of models grows.

    python perf/bench_parametric_memory.py [--hidden 512] [--layers 8] [--models 2 4 8]

Writes N random Llama-shaped checkpoints (float32 safetensors, sharing an init as the
study's models do) and measures, in a fresh process per N, the peak resident memory of
the parametric similarity over them. The streaming implementation should stay near one
model's size (one tensor of each model at a time) rather
than grow with N, as holding every model's float64 layer vectors did (≈ 140 GB for 11
models at 2.15B parameters).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

MEASURE = """
import json, resource, sys
from pathlib import Path
import torch
from safetensors.torch import load_file
from mergelimits import similarity
root, n, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "streamed":
    similarity.parametric({f"m{i}": root / f"m{i}" for i in range(n)}, root / "init")
else:  # what it replaced: every model's layers as float64 vectors, held at once
    held = []
    for i in range(n):
        sd = load_file(root / f"m{i}" / "model.safetensors")
        held.append(torch.cat([sd[k].double().flatten() for k in sorted(sd)]))
        del sd
print(json.dumps({"imports_kb": before, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def write_models(root: Path, n: int, hidden: int, layers: int) -> int:
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(0)
    shapes = {}
    for i in range(layers):
        p = f"model.layers.{i}."
        shapes |= {p + "self_attn.q_proj.weight": (hidden, hidden), p + "self_attn.k_proj.weight": (hidden, hidden),
                   p + "self_attn.v_proj.weight": (hidden, hidden), p + "self_attn.o_proj.weight": (hidden, hidden),
                   p + "mlp.gate_proj.weight": (4 * hidden, hidden), p + "mlp.up_proj.weight": (4 * hidden, hidden),
                   p + "mlp.down_proj.weight": (hidden, 4 * hidden), p + "input_layernorm.weight": (hidden,),
                   p + "post_attention_layernorm.weight": (hidden,)}
    init = {k: torch.randn(s, generator=g) * 0.02 for k, s in shapes.items()}
    (root / "init").mkdir(parents=True, exist_ok=True)
    save_file(init, root / "init" / "model.safetensors")
    for i in range(n):
        (root / f"m{i}").mkdir(exist_ok=True)
        save_file({k: v + torch.randn(v.shape, generator=g) * 0.005 for k, v in init.items()},
                  root / f"m{i}" / "model.safetensors")
    return sum(v.numel() for v in init.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--models", type=int, nargs="+", default=[2, 4, 8])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        params = write_models(root, max(args.models), args.hidden, args.layers)
        size_mb = params * 4 / 2**20
        print(f"{params / 1e6:.1f}M parameters a model ({size_mb:.0f} MB in float32, {2 * size_mb:.0f} MB as "
              "float64 layer vectors)")
        print("| models | streamed: peak over the imports (MB) | in model sizes | held float64 vectors (MB) |")
        print("|--:|--:|--:|--:|")
        for n in args.models:
            extra = {}
            for mode in ("streamed", "held"):
                out = subprocess.run([sys.executable, "-c", MEASURE, str(root), str(n), mode], capture_output=True,
                                     text=True, check=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                extra[mode] = (r["peak_kb"] - r["imports_kb"]) / 1024
            print(f"| {n} | {extra['streamed']:.0f} | {extra['streamed'] / size_mb:.2f} | {extra['held']:.0f} |")


if __name__ == "__main__":
    main()
