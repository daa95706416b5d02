"""Layer-by-layer checking of a 10-layer 512-unit stack (batch 64) vs end-to-end checks.

Rows, each on a correct net and on the same net with one planted bug (the weight gradient
of dense6 transposed):

- layer-wise directional + bisection: ``check_layers(..., mode="directional")``;
- end-to-end directional + bisection: ``check_gradient(..., directions=2)`` on the whole net;
- end-to-end full coordinate check: 2P evaluations of the whole net for P ~ 2.6M parameters,
  far too slow to run (days). Its evaluation count is exact (2 per entry); its time is
  EXTRAPOLATED as 2P x the measured time of one end-to-end loss evaluation (best of 5),
  and its verdict is that of a sampled end-to-end run (SAMPLE entries per parameter, the
  largest |analytic| among them), which is run and reported on its own row.

"evaluations" counts the loss evaluations of the gradient checks. The layer-wise check also
runs its own probes (repeat, batch independence, elementwise/dense detection): about 11-15
forward passes of ONE layer per layer, ~250 for this stack, each far cheaper than an
end-to-end evaluation. Times depend on the load of the machine; the counts do not.

Run:  python benchmarks/bench_layers.py
"""

import time

import numpy as np

from gradcheck import check_gradient
from gradcheck.layers import check_layers
from gradcheck.nn.layers import Dense
from gradcheck.nn.model import MLP
from gradcheck.nn.problem import mlp_problem

WIDTH, DEPTH, BATCH, SAMPLE = 512, 10, 64, 2
BUGGY_LAYER = "dense6"


class TransposedDense(Dense):
    """The planted bug: dW returned transposed (square, so the shape does not give it away)."""

    def backward(self, grad_y, *, input_grad=True):
        dx = super().backward(grad_y, input_grad=input_grad)
        self.grads["W"] = self.grads["W"].T.copy()
        return dx


def build(buggy):
    model = MLP([WIDTH] * (DEPTH + 1), activation="tanh", init="glorot", seed=0)
    if buggy:
        layer = next(layer for layer in model.layers if layer.name == BUGGY_LAYER)
        layer.__class__ = TransposedDense
    return model


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def layerwise(model, x):
    result, seconds = timed(lambda: check_layers(model.layers, x, mode="directional"))
    if result.passed:
        verdict = "pass"
    else:
        bad = result.layers[result.first_failure]
        top = bad.diagnoses[0] if bad.diagnoses else None
        verdict = f"FAIL at #{bad.index} {bad.name}" + (f" ({top.kind} {top.path})" if top else "")
    return result.n_evaluations, seconds, verdict


def seconds_per_evaluation(model, x, y):
    problem = mlp_problem(model, x, y, loss="mse")
    times = [timed(lambda: problem["loss"](problem["params"]))[1] for _ in range(5)]
    return min(times)  # the least disturbed by other load on the machine (as timeit does)


def end_to_end(model, x, y, **options):
    problem = mlp_problem(model, x, y, loss="mse")
    report, seconds = timed(
        lambda: check_gradient(problem["loss"], problem["grad"], problem["params"], **options)
    )
    if report.passed:
        verdict = "pass"
    else:
        paths = sorted({f.path for f in report.failures})
        top = report.diagnoses[0] if report.diagnoses else None
        verdict = f"FAIL {', '.join(paths)}" + (f" ({top.kind})" if top else "")
    return report.n_evaluations, seconds, verdict


def rows_for(buggy, x, y):
    model = build(buggy)
    n_params = sum(p.size for p in model.params.values())
    net = "planted bug" if buggy else "correct"
    ev, sec, verdict = layerwise(model, x)
    rows = [(net, "layer-wise directional+bisection", ev, f"{sec:.2f}", verdict)]
    ev2, sec2, verdict2 = end_to_end(model, x, y, directions=2)
    rows.append((net, "end-to-end directional+bisection", ev2, f"{sec2:.2f}", verdict2))
    ev3, sec3, verdict3 = end_to_end(model, x, y, sample=SAMPLE)
    per_eval = seconds_per_evaluation(model, x, y)
    full_evals = 2 * n_params
    rows.append(
        (net, f"end-to-end sampled ({SAMPLE}/param, measured)", ev3, f"{sec3:.2f}", verdict3)
    )
    rows.append(
        (net, "end-to-end FULL coordinate (extrapolated)", full_evals,
         f"~{full_evals * per_eval:.3g} (est.)", f"{verdict3} (from sampled run)")
    )  # fmt: skip
    return rows, n_params, per_eval, ev


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, WIDTH))
    y = rng.normal(size=(BATCH, WIDTH))
    table, ratios = [], []
    for buggy in (False, True):
        rows, n_params, per_eval, layer_evals = rows_for(buggy, x, y)
        table += rows
        ratios.append((2 * n_params / layer_evals, per_eval))
    header = ("net", "method", "evaluations", "seconds", "verdict")
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(5)]
    print(
        f"{DEPTH} dense layers of {WIDTH}x{WIDTH} + tanh, batch {BATCH}, "
        f"P = {n_params:,} parameters, float64"
    )
    for row in [header, *table]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)))
    for (ratio, per_eval), net in zip(ratios, ("correct", "planted bug"), strict=True):
        print(
            f"{net}: full coordinate check needs {ratio:,.0f}x the evaluations of the "
            f"layer-wise check (goal >= 50x); one end-to-end evaluation took "
            f"{per_eval * 1e3:.1f} ms, so the full check would take "
            f"~{2 * n_params * per_eval / 3600:.0f} h (extrapolated: 2P x that; not run)"
        )


if __name__ == "__main__":
    main()
