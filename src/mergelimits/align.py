"""Weight matching before merging (Git Re-Basin, Ainsworth et al. 2023, arXiv:2209.04836),
for the study's Llama experts: permute one model's units to line up with a reference's,
without changing the function it computes.

A Llama with RMSNorm, SwiGLU, RoPE and tied embeddings computes the same logits when
- a layer's FFN units are permuted: rows of `gate_proj` and `up_proj`, columns of `down_proj`
  (SwiGLU acts unit by unit);
- a layer's attention heads are permuted: whole key-value groups (rows of `k_proj`, `v_proj`,
  and the group's query heads' rows of `q_proj` and columns of `o_proj`), and the query heads
  within a group (they share its keys and values). RoPE rotates dimension pairs inside a
  head, so dimensions within a head are never moved;
- the residual stream is permuted: columns of every matrix that reads it (`q`, `k`, `v`,
  `gate`, `up`), rows of every one that writes it (`o`, `down`), the RMSNorm gains, and the
  embedding's columns. RMSNorm divides by the mean square over dimensions, which a
  permutation keeps; the tied output head then reads the permuted embedding against the
  permuted hidden state, so the logits are unchanged.

`match` finds the permutations that maximise Σ ⟨W_ref, P(W)⟩ over all weights by coordinate
descent: each permutation in turn is the solution of a linear assignment problem
(`scipy.optimize.linear_sum_assignment`) with the others fixed, until none changes. It
starts from the identity, so it is deterministic. (`rebasin` on PyPI, 0.0.47, traces
`nn.Module` graphs and handles `nn.MultiheadAttention` and LayerNorm but neither Llama's
attention nor RMSNorm, and says that transformers permute poorly with it.)

Convention: a permutation p says which old unit each new unit is: new[i] = old[p[i]].
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from scipy.optimize import linear_sum_assignment

from .modelid import WEIGHTS

LAYER = "model.layers.{}."


@dataclass(frozen=True)
class Shape:
    layers: int
    hidden: int
    ffn: int
    heads: int
    kv_heads: int
    head_dim: int

    @classmethod
    def from_config(cls, cfg: dict) -> Shape:
        heads = cfg["num_attention_heads"]
        if not cfg.get("tie_word_embeddings", False):
            # an untied head would need its rows kept and its columns permuted; the study's
            # models (tiny and HPLT) all tie them
            raise ValueError("weight matching here assumes tied embeddings (tie_word_embeddings: true)")
        return cls(cfg["num_hidden_layers"], cfg["hidden_size"], cfg["intermediate_size"], heads,
                   cfg.get("num_key_value_heads", heads), cfg.get("head_dim") or cfg["hidden_size"] // heads)

    @property
    def group(self) -> int:
        return self.heads // self.kv_heads


@dataclass
class Perms:
    residual: np.ndarray
    ffn: list[np.ndarray]
    groups: list[np.ndarray]  #: per layer: the order of key-value groups
    within: list[np.ndarray]  #: per layer: [kv_heads, group] the order of query heads inside each new group
    iterations: int = field(default=0, compare=False)

    @classmethod
    def identity(cls, s: Shape) -> Perms:
        return cls(np.arange(s.hidden), [np.arange(s.ffn) for _ in range(s.layers)],
                   [np.arange(s.kv_heads) for _ in range(s.layers)],
                   [np.tile(np.arange(s.group), (s.kv_heads, 1)) for _ in range(s.layers)])

    @classmethod
    def random(cls, s: Shape, seed: int) -> Perms:
        rng = np.random.default_rng(seed)
        return cls(rng.permutation(s.hidden), [rng.permutation(s.ffn) for _ in range(s.layers)],
                   [rng.permutation(s.kv_heads) for _ in range(s.layers)],
                   [np.stack([rng.permutation(s.group) for _ in range(s.kv_heads)]) for _ in range(s.layers)])

    def query_heads(self, s: Shape, layer: int) -> np.ndarray:
        """The old query head behind each new one: new group g is old group groups[g], its
        t-th head the old group's within[g][t]-th."""
        g, w = self.groups[layer], self.within[layer]
        return np.array([g[k] * s.group + w[k][t] for k in range(s.kv_heads) for t in range(s.group)])

    def same(self, other: Perms) -> bool:
        return (np.array_equal(self.residual, other.residual)
                and all(np.array_equal(a, b) for a, b in zip(self.ffn, other.ffn))
                and all(np.array_equal(a, b) for a, b in zip(self.groups, other.groups))
                and all(np.array_equal(a, b) for a, b in zip(self.within, other.within)))


def _rows(blocks: np.ndarray, size: int) -> torch.Tensor:
    """Row indices of whole blocks of `size` rows, in the given block order."""
    return torch.as_tensor((blocks[:, None] * size + np.arange(size)).reshape(-1))


def apply(state: dict[str, torch.Tensor], s: Shape, p: Perms) -> dict[str, torch.Tensor]:
    """The state dict with every permutation applied (a new dict; the input is untouched)."""
    biases = [key for key in state if key.endswith(".bias")]
    if biases:
        raise ValueError(f"weight matching here assumes no biases: {biases[:3]}")
    out = dict(state)
    r = torch.as_tensor(p.residual)
    out["model.embed_tokens.weight"] = state["model.embed_tokens.weight"][:, r]
    out["model.norm.weight"] = state["model.norm.weight"][r]
    if "lm_head.weight" in state:  # tied: the same matrix, stored twice
        out["lm_head.weight"] = state["lm_head.weight"][:, r]
    for i in range(s.layers):
        k = LAYER.format(i)
        q_rows = _rows(p.query_heads(s, i), s.head_dim)
        kv_rows = _rows(p.groups[i], s.head_dim)
        f = torch.as_tensor(p.ffn[i])
        for name in ("input_layernorm", "post_attention_layernorm"):
            out[f"{k}{name}.weight"] = state[f"{k}{name}.weight"][r]
        out[f"{k}self_attn.q_proj.weight"] = state[f"{k}self_attn.q_proj.weight"][q_rows][:, r]
        for name in ("k_proj", "v_proj"):
            out[f"{k}self_attn.{name}.weight"] = state[f"{k}self_attn.{name}.weight"][kv_rows][:, r]
        out[f"{k}self_attn.o_proj.weight"] = state[f"{k}self_attn.o_proj.weight"][r][:, q_rows]
        for name in ("gate_proj", "up_proj"):
            out[f"{k}mlp.{name}.weight"] = state[f"{k}mlp.{name}.weight"][f][:, r]
        out[f"{k}mlp.down_proj.weight"] = state[f"{k}mlp.down_proj.weight"][r][:, f]
    return out


def _assign(similarity: np.ndarray) -> np.ndarray:
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return cols[np.argsort(rows)]


def _f64(state: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {k: v.detach().to(torch.float64).numpy() for k, v in state.items()}


def _heads(q: np.ndarray, o: np.ndarray, s: Shape) -> tuple[np.ndarray, np.ndarray]:
    """q [H, d, hidden] and o [hidden, H, d] as per-head blocks."""
    return q.reshape(s.heads, s.head_dim, -1), o.reshape(o.shape[0], s.heads, s.head_dim)


def match(ref: dict[str, torch.Tensor], other: dict[str, torch.Tensor], s: Shape, max_iter: int = 50) -> Perms:
    """The permutations of `other` that line it up with `ref` (weight matching)."""
    R = _f64(ref)
    p = Perms.identity(s)
    for it in range(1, max_iter + 1):
        before = copy.deepcopy(p)
        Ap = _f64(apply(other, s, p))
        # each layer's FFN units and heads, with the current residual order
        for i in range(s.layers):
            k = LAYER.format(i)
            sim = (R[f"{k}mlp.gate_proj.weight"] @ Ap[f"{k}mlp.gate_proj.weight"].T
                   + R[f"{k}mlp.up_proj.weight"] @ Ap[f"{k}mlp.up_proj.weight"].T
                   + R[f"{k}mlp.down_proj.weight"].T @ Ap[f"{k}mlp.down_proj.weight"])
            # sim[i, j] pairs new unit i with unit j of the current order
            p.ffn[i] = p.ffn[i][_assign(sim)]
            p.groups[i], p.within[i] = _match_heads(R, Ap, k, s, p.groups[i], p.within[i])
        # the residual stream, with the current unit and head orders
        Ap = _f64(apply(other, s, Perms(np.arange(s.hidden), p.ffn, p.groups, p.within)))
        sim = R["model.embed_tokens.weight"].T @ Ap["model.embed_tokens.weight"]
        sim += np.outer(R["model.norm.weight"], Ap["model.norm.weight"])
        for i in range(s.layers):
            k = LAYER.format(i)
            for name in ("input_layernorm", "post_attention_layernorm"):
                sim += np.outer(R[f"{k}{name}.weight"], Ap[f"{k}{name}.weight"])
            for name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.gate_proj", "mlp.up_proj"):
                sim += R[f"{k}{name}.weight"].T @ Ap[f"{k}{name}.weight"]
            for name in ("self_attn.o_proj", "mlp.down_proj"):
                sim += R[f"{k}{name}.weight"] @ Ap[f"{k}{name}.weight"].T
        p.residual = _assign(sim)
        p.iterations = it
        if p.same(before):
            break
    return p


def _match_heads(R, Ap, k, s: Shape, groups: np.ndarray, within: np.ndarray):
    """Key-value groups by their keys, values and best-matched query heads; then the query
    heads inside each matched group. Ap is `other` with the current orders applied, so the
    result composes with them."""
    qR, oR = _heads(R[f"{k}self_attn.q_proj.weight"], R[f"{k}self_attn.o_proj.weight"], s)
    qA, oA = _heads(Ap[f"{k}self_attn.q_proj.weight"], Ap[f"{k}self_attn.o_proj.weight"], s)
    head_sim = np.einsum("hdx,jdx->hj", qR, qA) + np.einsum("xhd,xjd->hj", oR, oA)
    kvR = [R[f"{k}self_attn.{n}.weight"].reshape(s.kv_heads, s.head_dim, -1) for n in ("k_proj", "v_proj")]
    kvA = [Ap[f"{k}self_attn.{n}.weight"].reshape(s.kv_heads, s.head_dim, -1) for n in ("k_proj", "v_proj")]
    group_sim = sum(np.einsum("gdx,hdx->gh", a, b) for a, b in zip(kvR, kvA))
    inner = {}
    for g in range(s.kv_heads):
        for h in range(s.kv_heads):
            block = head_sim[g * s.group:(g + 1) * s.group, h * s.group:(h + 1) * s.group]
            order = _assign(block)
            inner[g, h] = order
            group_sim[g, h] += block[np.arange(s.group), order].sum()
    new_groups = _assign(group_sim)
    # compose with the current order: Ap's group h is the original's groups[h]
    composed_groups = groups[new_groups]
    composed_within = np.stack([within[new_groups[g]][inner[g, new_groups[g]]] for g in range(s.kv_heads)])
    return composed_groups, composed_within


def moved(p: Perms, s: Shape) -> dict[str, float]:
    """The share of units a permutation moves, per kind: 0 when matching found the identity
    (as for models that share an initialisation and have not drifted apart)."""
    def share(perms):
        return float(np.mean([np.mean(x != np.arange(len(x))) for x in perms]))

    return {"residual": share([p.residual]), "ffn": share(p.ffn), "kv_groups": share(p.groups),
            "query_heads": share([p.query_heads(s, i) for i in range(s.layers)])}


def align_checkpoints(members: list, out_root) -> tuple[list, list[dict]]:
    """Each member after the first weight-matched to the first, written as a checkpoint under
    `out_root` (weights and config): the paths to merge, and per member what moved."""
    members = [Path(m) for m in members]
    ref = load_file(members[0] / WEIGHTS)
    shape = Shape.from_config(json.loads((members[0] / "config.json").read_text()))
    paths, records = [members[0]], [{"member": str(members[0]), "reference": True}]
    for i, member in enumerate(members[1:], start=1):
        p = match(ref, load_file(member / WEIGHTS), shape)
        out = Path(out_root) / f"member{i}"
        out.mkdir(parents=True, exist_ok=True)
        save_file(apply(load_file(member / WEIGHTS), shape, p), out / WEIGHTS, metadata={"format": "pt"})
        shutil.copyfile(member / "config.json", out / "config.json")
        paths.append(out)
        records.append({"member": str(member), "iterations": p.iterations, "moved": moved(p, shape)})
    return paths, records
