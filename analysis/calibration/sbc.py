r"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018).

If a model's parameters :math:`\theta^\ast` are drawn from its prior, data :math:`y` from its
likelihood given :math:`\theta^\ast`, and the model is then fitted to :math:`y`, the rank of
:math:`\theta^\ast` among :math:`L` posterior draws is uniform on :math:`0..L` whenever the
sampler computes the posterior correctly. Skewed rank histograms reveal a biased fit; a U
shape an over-confident one (or autocorrelated draws); a hump an under-confident one.

The simulations are run with ``simuk`` (ArviZ's SBC package), which draws :math:`\theta^\ast`
and :math:`y` from the model's prior predictive and refits the *same* model to each draw.
That matters for models whose priors are scaled to the data they were built on (the Bass
model's :math:`m`): the scale constants stay fixed across simulations, so
the check is valid for the model exactly as it is fitted to the user's data.

Work is done in chunks of :data:`CHUNK` simulations, each with its own seed and each saved
as soon as it is done, so an interrupted run resumes where it stopped and gives the same
ranks as an uninterrupted one. A chunk is named by the fingerprint of the model, data and
settings, its index and its number of simulations: a rerun with another count reuses the
chunks it shares with the earlier run and refits the rest (the last chunk of 25 holds 5
simulations, that of 30 holds 10).

Uniformity is tested per parameter with Pearson's :math:`\chi^2` on ``bins`` rank bins
(expected counts from the exact number of rank values per bin), at level
:math:`0.01 / k` for :math:`k` parameters (Bonferroni). Autocorrelated posterior draws make
rank histograms look over-dispersed, so they can only cause a false alarm, never a false
pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymc as pm
from matplotlib.figure import Figure
from scipy import stats

from simulation.io import write_atomic

CHUNK = 10
ALPHA = 0.01


@dataclass(frozen=True)
class SBCResult:
    """Ranks of the true parameter among ``max_rank`` posterior draws, one per simulation.

    ``ranks`` maps each free variable (one entry per element for vector variables, named
    ``name[i]``) to an integer array of shape (simulations,), values in 0..max_rank.
    """

    model: str
    ranks: dict[str, np.ndarray]
    max_rank: int

    @property
    def simulations(self) -> int:
        return len(next(iter(self.ranks.values())))

    def bin_counts(self, name: str, bins: int) -> tuple[np.ndarray, np.ndarray]:
        """Observed and expected counts of ``name``'s ranks in ``bins`` equal-width bins."""
        values = np.arange(self.max_rank + 1)
        which = values * bins // (self.max_rank + 1)
        share = np.bincount(which, minlength=bins) / len(values)
        observed = np.bincount(self.ranks[name] * bins // (self.max_rank + 1), minlength=bins)
        return observed, share * self.simulations

    def p_values(self, bins: int = 10) -> dict[str, float]:
        """Pearson chi-square p-value of rank uniformity, per parameter."""
        out = {}
        for name in self.ranks:
            observed, expected = self.bin_counts(name, bins)
            out[name] = float(stats.chisquare(observed, expected).pvalue)
        return out

    def uniform(self, bins: int = 10, alpha: float = ALPHA) -> bool:
        """True when no parameter's ranks reject uniformity at ``alpha / k``."""
        values = self.p_values(bins)
        return min(values.values()) > alpha / len(values)

    def summary(self, bins: int = 10) -> dict:
        """JSON-ready: settings, per-parameter p-values and ranks, and the verdict."""
        p = self.p_values(bins)
        return {"model": self.model, "simulations": self.simulations,
                "posterior_draws": self.max_rank, "bins": bins, "alpha": ALPHA,
                "uniform": self.uniform(bins),
                "parameters": {n: {"p_value": p[n], "ranks": self.ranks[n].tolist()}
                               for n in self.ranks}}

    def plot(self, bins: int = 10) -> Figure:
        """Rank histograms with the central 99% band of a uniform bin count."""
        names = list(self.ranks)
        cols = min(4, len(names))
        rows = -(-len(names) // cols)
        fig = Figure(figsize=(3.2 * cols, 2.6 * rows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
        for ax, name in zip(axes, names, strict=False):
            observed, expected = self.bin_counts(name, bins)
            n = self.simulations
            low = stats.binom.ppf(0.005, n, expected / n)
            high = stats.binom.ppf(0.995, n, expected / n)
            x = np.arange(bins)
            ax.fill_between(x, low, high, step="mid", color="0.85", label="99% if uniform")
            ax.bar(x, observed, width=0.9, color="tab:blue")
            ax.set_title(name, fontsize=9)
            ax.set_xticks([])
        for ax in axes[len(names):]:
            ax.set_visible(False)
        axes[0].legend(fontsize=7, loc="lower left")
        fig.suptitle(f"SBC ranks, {self.model}: {self.simulations} simulations, "
                     f"{self.max_rank} draws each")
        return fig

    def save(self, out: str | Path, bins: int = 10) -> dict[str, Path]:
        """Write ``sbc.json`` and ``sbc.png`` to ``out`` (atomically)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.summary(bins), indent=1)
        paths = {"sbc": out / "sbc.json", "sbc_plot": out / "sbc.png"}
        write_atomic(paths["sbc"], lambda tmp: tmp.write_text(text, encoding="utf-8"))
        fig = self.plot(bins)
        write_atomic(paths["sbc_plot"], lambda tmp: fig.savefig(tmp, format="png", dpi=110))
        return paths


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:  # a file object: np.savez would append .npz to a name
        np.savez(handle, **arrays)


def _chunk_ranks(model: pm.Model, n: int, seed: int, sample: dict) -> dict[str, np.ndarray]:
    from simuk import SBC

    sbc = SBC(model, num_simulations=n, sample_kwargs=dict(sample), seed=seed)
    with warnings.catch_warnings():
        # simuk 0.2 calls sample_prior_predictive(samples=...); extreme prior draws overflow
        # the mass matrix's energy during early tuning, which NUTS recovers from
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        sbc.run_simulations()
    tree = sbc.simulations["prior_sbc"]
    out = {}
    for name in sbc.var_names:
        values = np.asarray(tree[name].values)[0]  # (simulations, *shape)
        flat = values.reshape(n, -1)
        if flat.shape[1] == 1:
            out[name] = flat[:, 0].astype(np.int64)
        else:
            for i in range(flat.shape[1]):
                out[f"{name}[{i}]"] = flat[:, i].astype(np.int64)
    return out


def _fingerprint(model: pm.Model, key: str, settings: dict) -> str:
    """A digest of what the ranks depend on: variables, observed data, settings, ``key``."""
    digest = hashlib.sha256(json.dumps({"key": key, "settings": settings,
                                        "free": [v.name for v in model.free_RVs]},
                                       sort_keys=True).encode())
    for rv in model.observed_RVs:
        value = model.rvs_to_values[rv]
        digest.update(rv.name.encode())
        digest.update(np.ascontiguousarray(getattr(value, "data", np.nan)).tobytes())
    return digest.hexdigest()[:16]


def run_sbc(model: pm.Model, simulations: int, *, name: str = "model", draws: int = 100,
            tune: int = 500, chains: int = 2, seed: int = 0, target_accept: float = 0.9,
            checkpoint: str | Path | None = None, key: str = "",
            progress: bool = False) -> SBCResult:
    """SBC of ``model`` over ``simulations`` prior draws (see the module docstring).

    Parameters
    ----------
    draws, tune, chains
        NUTS settings of every refit; ranks run over ``chains * draws`` posterior draws.
    checkpoint
        A directory for finished chunks; a rerun with the same model, data, settings and
        ``key`` loads them instead of refitting.
    key
        Anything else the model depends on that its observed data do not show (the CLI
        passes the data file's digest: the price model's prices are constants).
    """
    if simulations < 1:
        raise ValueError(f"simulations must be at least 1, got {simulations}")
    sample = {"draws": draws, "tune": tune, "chains": chains, "cores": 1,
              "target_accept": target_accept, "progressbar": False,
              "compute_convergence_checks": False}
    folder = Path(checkpoint) if checkpoint is not None else None
    stamp = _fingerprint(model, key, {**sample, "seed": seed, "chunk": CHUNK})
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    chunks: list[dict[str, np.ndarray]] = []
    quiet = [logging.getLogger(n) for n in ("pymc", "pymc.sampling.mcmc", "pytensor")]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.ERROR)
    bar = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "0" if progress else "1"  # simuk's own progress bar
    try:
        for i, start in enumerate(range(0, simulations, CHUNK)):
            n = min(CHUNK, simulations - start)
            path = folder / f"sbc_{stamp}_{i}_{n}.npz" if folder else None
            if path is not None and path.exists():
                with np.load(path) as saved:
                    chunks.append({k: saved[k] for k in saved.files})
                continue
            ranks = _chunk_ranks(model, n, seed * 1_000_003 + i, sample)
            if path is not None:
                write_atomic(path, lambda tmp, r=ranks: _save_npz(tmp, r))
            chunks.append(ranks)
            if progress:
                print(f"SBC {name}: {start + n}/{simulations} simulations", flush=True)
    finally:
        for q, level in zip(quiet, levels, strict=True):
            q.setLevel(level)
        if bar is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = bar
    ranks = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    return SBCResult(name, ranks, chains * draws)
