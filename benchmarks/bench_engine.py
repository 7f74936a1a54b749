"""Time one full training step (forward + backward + Adam, full batch) of the engine.

For each network size and dtype it prints steps per second and the fraction of the machine's
GEMM rate that the step reaches: a square matrix product is timed in the same rounds as the
step, and the median over rounds of their ratio is taken, so that the machine's drift from
second to second does not favour either side. When torch is importable it times the
equivalent torch model in the same rounds too (with an idle pause before each block, so that
one library's spinning threads never compete with the other's), and prints the ratio
engine / torch, again the median of per-round ratios; the faster of torch's Adam
implementations (single-tensor or foreach) is used.

    python benchmarks/bench_engine.py [--rounds 7] [--seconds 0.25] [--only tiny,wide]

Targets: geometric mean of the ratio over the 8 cells >= 2.0; wide at >= 70% of the GEMM rate.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_trainer.engine import Network, optimizers  # noqa: E402

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None

RATIO_TARGET = 2.0
GEMM_TARGET = 0.70


@dataclass(frozen=True)
class Cell:
    """One benchmark case: a network shape, its batch size and loss."""

    name: str
    sizes: tuple[int, ...]
    batch: int

    @property
    def loss(self) -> str:
        return "bce" if self.sizes[-1] == 1 else "cross_entropy"

    @property
    def flops(self) -> float:
        """Multiply-adds x 2 for the forward pass, weight gradients and input gradients."""
        macs = [a * b for a, b in zip(self.sizes, self.sizes[1:])]
        return 2.0 * self.batch * (3 * sum(macs) - macs[0])  # no gradient for the input itself


CELLS = (
    Cell("tiny", (2, 8, 8, 1), 32),
    Cell("small", (2, 64, 64, 1), 256),
    Cell("mnist-like", (784, 256, 10), 128),
    Cell("wide", (512, 1024, 1024, 10), 512),
)


def make_data(cell: Cell, dtype, seed: int = 0):
    """Random inputs and targets: 0/1 for one output unit, one-hot for several."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(cell.batch, cell.sizes[0])).astype(dtype)
    k = cell.sizes[-1]
    labels = rng.integers(0, max(k, 2), size=cell.batch)
    Y = (labels.reshape(-1, 1).astype(dtype) if k == 1 else np.eye(k, dtype=dtype)[labels])
    return X, Y, labels


def engine_step_fn(cell: Cell, dtype):
    """A zero-argument function doing one engine training step."""
    X, Y, _ = make_data(cell, dtype)
    acts = ["relu"] * (len(cell.sizes) - 2) + ["sigmoid" if cell.sizes[-1] == 1 else "softmax"]
    net = Network(cell.sizes, acts, seed=0, dtype=dtype)
    opt = optimizers.create("adam", lr=1e-3)
    params, loss = net.params, cell.loss

    def step():
        _, grads = net.loss_and_grads(X, Y, loss)
        opt.step(params, grads)

    return step


def torch_step_fns(cell: Cell, dtype):
    """Zero-argument functions doing one torch training step, per Adam implementation."""
    X, Y, labels = make_data(cell, dtype)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    lt = torch.from_numpy(labels)
    fns = {}
    for foreach in (False, True):
        torch.manual_seed(0)
        layers = []
        for i, (a, b) in enumerate(zip(cell.sizes, cell.sizes[1:])):
            layers.append(torch.nn.Linear(a, b, dtype=tdtype))
            if i < len(cell.sizes) - 2:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=foreach)
        if cell.sizes[-1] == 1:
            loss_fn = lambda out: torch.nn.functional.binary_cross_entropy_with_logits(out, Yt)  # noqa: E731
        else:
            loss_fn = lambda out: torch.nn.functional.cross_entropy(out, lt)  # noqa: E731

        def step(model=model, opt=opt, loss_fn=loss_fn):
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(model(Xt))
            loss.backward()
            opt.step()
            loss.item()  # the engine returns the loss as a float every step too

        fns["foreach" if foreach else "single"] = step
    return fns


def rate(fn, seconds: float) -> float:
    """Steps per second of ``fn`` over about ``seconds``."""
    n, t0 = 0, time.perf_counter()
    batch = 1
    while True:
        for _ in range(batch):
            fn()
        n += batch
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n / dt
        batch = max(1, min(batch * 2, int(n * (seconds - dt) / dt) + 1))


GEMM_N = 1024


def gemm_fn(dtype):
    """One large square matrix product with NumPy's BLAS in this dtype (2 * GEMM_N**3 FLOPs)."""
    rng = np.random.default_rng(0)
    a, b = (rng.normal(size=(GEMM_N, GEMM_N)).astype(dtype) for _ in range(2))
    out = np.empty((GEMM_N, GEMM_N), dtype)
    return lambda: np.matmul(a, b, out=out)


def paired_median(a: list[float], b: list[float]) -> float:
    """The median over rounds of a[i] / b[i]: each round's two rates were timed seconds apart,
    so the machine's slower and faster spells cancel out of every ratio."""
    return statistics.median(x / y for x, y in zip(a, b))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per cell")
    parser.add_argument("--seconds", type=float, default=0.25, help="seconds per timing block")
    parser.add_argument("--cooldown", type=float, default=0.3,
                        help="idle seconds before each block, so that BLAS/OpenMP threads left spinning "
                             "by the previous block do not steal the cores")
    parser.add_argument("--only", default="", help="comma-separated cell names to run")
    parser.add_argument("--no-torch", action="store_true", help="skip the torch comparison")
    args = parser.parse_args(argv)
    use_torch = torch is not None and not args.no_torch
    only = {s for s in args.only.split(",") if s}
    cells = [c for c in CELLS if not only or c.name in only]

    print(f"numpy {np.__version__}" + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if use_torch else ", torch not timed"))
    print(f"GEMM % = engine FLOP/s over a {GEMM_N}x{GEMM_N} matrix product's FLOP/s, timed in the same "
          "rounds (median of the per-round ratios)")
    header = f"{'cell':<11} {'dtype':<8} {'engine/s':>10} {'GEMM %':>7} {'GFLOP/s':>8}"
    if use_torch:
        header += f" {'torch/s':>10} {'ratio':>6}  torch adam"
    print(header)

    ratios, wide_fracs = [], []
    for cell in cells:
        for dt in (np.float64, np.float32):
            eng = engine_step_fn(cell, dt)
            fns = {"engine": eng, "gemm": gemm_fn(dt)}
            if use_torch:
                fns.update({f"torch-{k}": f for k, f in torch_step_fns(cell, dt).items()})
            for fn in fns.values():  # warm up: buffers, BLAS threads, torch's allocator
                rate(fn, args.seconds / 4)
            samples = {k: [] for k in fns}
            for _ in range(args.rounds):
                for k, fn in fns.items():
                    time.sleep(args.cooldown)  # let the other library's idle threads stop spinning
                    for _ in range(3):
                        fn()
                    samples[k].append(rate(fn, args.seconds))
            med = {k: statistics.median(v) for k, v in samples.items()}
            gemm = med.pop("gemm") * 2.0 * GEMM_N**3
            frac = paired_median(samples["engine"], samples["gemm"]) * cell.flops / (2.0 * GEMM_N**3)
            line = (f"{cell.name:<11} {np.dtype(dt).name:<8} {med['engine']:>10.1f} {100 * frac:>6.1f}%"
                    f" {gemm / 1e9:>8.1f}")
            if use_torch:
                best = max((k for k in med if k.startswith("torch")), key=med.get)
                ratio = paired_median(samples["engine"], samples[best])
                ratios.append(ratio)
                line += f" {med[best]:>10.1f} {ratio:>5.2f}x  {best[6:]}"
            if cell.name == "wide":
                wide_fracs.append(frac)
            print(line, flush=True)

    ok = True
    if ratios:
        gmean = math.exp(sum(map(math.log, ratios)) / len(ratios))
        passed = gmean >= RATIO_TARGET
        if len(ratios) < 2 * len(CELLS):  # --only: the target is for all cells together
            verdict = f"judged over all {2 * len(CELLS)} cells only"
        else:
            ok &= passed
            verdict = "met" if passed else "NOT met"
        print(f"geometric mean engine/torch over {len(ratios)} cells: {gmean:.2f}x "
              f"(target {RATIO_TARGET}x: {verdict})")
    for frac in wide_fracs:
        passed = frac >= GEMM_TARGET
        ok &= passed
        print(f"wide at {100 * frac:.1f}% of the GEMM rate (target {100 * GEMM_TARGET:.0f}%: "
              f"{'met' if passed else 'NOT met'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
