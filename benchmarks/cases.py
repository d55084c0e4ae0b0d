"""The layers the benchmark times; they live in convlab.bench.cases so that `convlab bench` has them too."""

from __future__ import annotations

from convlab.bench.cases import CASES, OPS, PEERS, Case

__all__ = ["CASES", "OPS", "PEERS", "Case"]

if __name__ == "__main__":
    for case in CASES:
        print(f"{case.name:42} {case.forward_flops / 1e9:6.2f} GFLOP forward, peers: {', '.join(case.peers())}")
