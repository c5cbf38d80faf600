"""Diffusion throughput: the campaign's own spreading step (``simulation.diffusion``, run
frontier by frontier as ``independent_cascade``) against NDlib's, same graph and seeds.

    .venv/bin/python benchmarks/bench_diffusion.py [--nodes 5000] [--runs 20]

Throughput is tie activations per second: the out-ties every activated node tries once
(the same count for both implementations on a given cascade). Also times building the
1,000,000-consumer follow graph and its peak memory (in a subprocess).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from simulation import network as net
from simulation.diffusion import independent_cascade

TIE_P = (0.05, 0.3, 0.15)
RESULTS = Path(__file__).parent / "results"


def _graph(nodes: int) -> net.FollowGraph:
    rng = np.random.default_rng(0)
    return net.generate(rng.integers(0, 8, nodes), net.NetworkSettings(kol_share=0.002),
                        rng=rng)


def ours(graph: net.FollowGraph, seeds, runs: int) -> tuple[float, int]:
    rng = np.random.default_rng(1)
    independent_cascade(graph, seeds, TIE_P, rng=np.random.default_rng(0))  # warm caches
    tries, start = 0, time.perf_counter()
    deg = graph.out_degree()
    for _ in range(runs):
        tries += int(deg[independent_cascade(graph, seeds, TIE_P, rng=rng).active].sum())
    return time.perf_counter() - start, tries


def ndlib(graph: net.FollowGraph, seeds, runs: int) -> tuple[float, int]:
    import ndlib.models.epidemics as ep
    import ndlib.models.ModelConfig as mc

    g = graph.to_networkx()
    p = np.array(TIE_P)[graph.tie]
    edges = [((int(u), int(v)), float(q))
             for u, v, q in zip(graph.sources(), graph.indices, p, strict=True)]
    deg = graph.out_degree()
    tries, elapsed = 0, 0.0
    for run in range(runs):
        model = ep.IndependentCascadesModel(g, seed=run)
        config = mc.Configuration()
        config.add_model_initial_configuration("Infected", [int(s) for s in seeds])
        for edge, q in edges:
            config.add_edge_configuration("threshold", edge, q)
        model.set_initial_status(config)
        start = time.perf_counter()  # time the diffusion only, not the configuration
        while True:
            it = model.iteration()
            if it["iteration"] > 0 and it["node_count"][1] == 0:
                break
        elapsed += time.perf_counter() - start
        active = [n for n, s in model.status.items() if s == 2]
        tries += int(deg[active].sum())
    return elapsed, tries


def build_1m() -> dict:
    out = subprocess.run([sys.executable, __file__, "--build-only"], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        rng = np.random.default_rng(0)
        segment = rng.integers(0, 8, 1_000_000)
        start = time.perf_counter()
        g = net.generate(segment, net.NetworkSettings(friend_degree=10.5), rng=rng)
        print(json.dumps({"seconds": time.perf_counter() - start, "edges": g.n_edges,
                          "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                          / 2**20}))
        return
    graph = _graph(args.nodes)
    seeds = np.flatnonzero(graph.role == net.ROLE_KOL)[:5]
    t_ours, n_ours = ours(graph, seeds, args.runs)
    t_nd, n_nd = ndlib(graph, seeds, args.runs)
    build = build_1m()
    report = {
        "graph": {"nodes": graph.n, "edges": graph.n_edges, "runs": args.runs},
        "ours": {"seconds": t_ours, "tie_activations": n_ours, "per_second": n_ours / t_ours},
        "ndlib": {"seconds": t_nd, "tie_activations": n_nd, "per_second": n_nd / t_nd},
        "speedup": (n_ours / t_ours) / (n_nd / t_nd),
        "build_1m": build,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "diffusion.json").write_text(json.dumps(report, indent=2))
    print(f"{graph.n:,} nodes, {graph.n_edges:,} ties, {args.runs} cascades from 5 KOLs: "
          f"ours {report['ours']['per_second'] / 1e6:.2f} M tie activations/s, NDlib "
          f"{report['ndlib']['per_second'] / 1e6:.3f} M/s: {report['speedup']:.0f}x "
          f"(target >= 50x)")
    print(f"1,000,000 consumers: {build['edges']:,} ties built in {build['seconds']:.1f} s, "
          f"peak {build['peak_gib']:.2f} GiB")


if __name__ == "__main__":
    main()
