"""`train` (SPEC section 2 and 3): updates checked against an independent implementation.

The optimizers are written out here from PyTorch's documented update rules (torch.optim.SGD
with and without momentum, torch.optim.Adam), with the gradients of the small models
worked by hand:

* sgd:      w <- w - lr g
* momentum: buf = g on the first step, then buf = mu buf + g;  w <- w - lr buf
* adam:     m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
            m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t);  w <- w - lr m_hat / (sqrt(v_hat) + eps)

sgd and momentum run on fractions.Fraction and must match exactly; adam runs on mpmath at
50 digits and must match to a relative 1e-12.  The values are handed to ``backprop check``
as the student's answers, and read back from ``backprop solve``.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
import yaml

from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
mpmath.mp.dps = 50




def write(tmp_path: Path, data: dict, name: str = "train") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the models, by hand

class Linear:
    """y_hat = x w, loss = (y_hat - y)^2:  dloss/dw = 2 (x w - y) x."""

    given = {"x": 3, "y": 5, "w": 1}
    steps = {"y_hat": "x * w", "r": "y_hat - y", "loss": "r**2"}
    params = ["w"]

    @staticmethod
    def loss(p, c):
        return (c["x"] * p["w"][0] - c["y"]) ** 2

    @staticmethod
    def grads(p, c):
        r = c["x"] * p["w"][0] - c["y"]
        return {"w": [2 * r * c["x"]]}


class WithBias:
    """Two parameters: y_hat = x w + b, loss = (y_hat - y)^2:  dw = 2 r x, db = 2 r."""

    given = {"x": 2, "y": 3, "w": 1, "b": -1}
    steps = {"y_hat": "x * w + b", "r": "y_hat - y", "loss": "r**2"}
    params = ["w", "b"]

    @staticmethod
    def loss(p, c):
        return (c["x"] * p["w"][0] + p["b"][0] - c["y"]) ** 2

    @staticmethod
    def grads(p, c):
        r = c["x"] * p["w"][0] + p["b"][0] - c["y"]
        return {"w": [2 * r * c["x"]], "b": [2 * r]}


class Vector:
    """A tensor parameter: w = [w1, w2] (column), loss = (sum(w * x) - y)^2: dw = 2 r x."""

    given = {"x": [1, -2], "y": 2, "w": [1, 1]}
    steps = {"y_hat": "sum(w * x)", "r": "y_hat - y", "loss": "r**2"}
    params = ["w"]

    @staticmethod
    def loss(p, c):
        return (sum(wi * xi for wi, xi in zip(p["w"], c["x"])) - c["y"]) ** 2

    @staticmethod
    def grads(p, c):
        r = sum(wi * xi for wi, xi in zip(p["w"], c["x"])) - c["y"]
        return {"w": [2 * r * xi for xi in c["x"]]}


MODELS = {"linear": Linear, "bias": WithBias, "vector": Vector}


def as_list(value):
    return [v for v in value] if isinstance(value, list) else [value]


def run(model, optimizer: str, rate, steps: int, number=Fraction, **hyper):
    """PyTorch's rules, written out; returns the parameters and loss after 0..steps updates."""
    const = {k: [number(v) for v in as_list(x)] if isinstance(x, list) else number(x)
             for k, x in model.given.items() if k not in model.params}
    p = {k: [number(v) for v in as_list(model.given[k])] for k in model.params}
    rate = number(rate)
    mu = number(hyper.get("momentum", Fraction(9, 10)))
    b1 = number(hyper.get("beta1", Fraction(9, 10)))
    b2 = number(hyper.get("beta2", Fraction(999, 1000)))
    eps = number(hyper.get("eps", Fraction(1, 10**8)))
    buf = {k: None for k in p}
    m = {k: [number(0)] * len(v) for k, v in p.items()}
    v2 = {k: [number(0)] * len(v) for k, v in p.items()}
    history = [({k: list(v) for k, v in p.items()}, model.loss(p, const))]
    for t in range(1, steps + 1):
        g = model.grads(p, const)
        for k in p:
            if optimizer == "sgd":
                step = [rate * gi for gi in g[k]]
            elif optimizer == "momentum":
                buf[k] = list(g[k]) if buf[k] is None else [mu * b + gi for b, gi in zip(buf[k], g[k])]
                step = [rate * b for b in buf[k]]
            elif optimizer == "adam":
                m[k] = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m[k], g[k])]
                v2[k] = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v2[k], g[k])]
                step = []
                for mi, vi in zip(m[k], v2[k]):
                    m_hat = mi / (1 - b1 ** t)
                    v_hat = vi / (1 - b2 ** t)
                    step.append(rate * m_hat / (mpmath.sqrt(v_hat) + eps))
            else:
                raise ValueError(optimizer)
            p[k] = [pi - si for pi, si in zip(p[k], step)]
        history.append(({k: list(v) for k, v in p.items()}, model.loss(p, const)))
    return history


def mp(q) -> mpmath.mpf:
    q = Fraction(q)
    return mpmath.mpf(q.numerator) / q.denominator


def exact(q) -> str:
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def decimal(x) -> str:
    return mpmath.nstr(x, 25, min_fixed=-30, max_fixed=30)


def exercise(model, train: dict, **extra) -> dict:
    data = {"backprop": 1, "given": dict(model.given), "steps": dict(model.steps),
            "train": train}
    data.update(extra)
    return data


def keys_and_answers(model, history, fmt) -> dict:
    answers = {}
    for t in range(1, len(history)):
        params, loss = history[t]
        for k in model.params:
            vals = params[k]
            answers[f"{k}@{t}"] = fmt(vals[0]) if not isinstance(model.given[k], list) \
                else [fmt(v) for v in vals]
        answers[f"loss@{t}"] = fmt(loss)
    return answers


def check_all_correct(tmp_path, data: dict, answers: dict):
    data = {**data, "ask": list(answers), "answers": answers}
    result = invoke("check", write(tmp_path, data), "--format", "json")
    [ex] = json.loads(result.stdout)["exercises"]
    assert ex["error"] is None, ex["error"]
    wrong = {i["key"]: (i["answer"], i["expected"]) for i in ex["items"] if i["status"] != "correct"}
    assert not wrong, f"(answer, tool's expected) for the keys that differ: {wrong}"
    assert result.exit_code == 0


def solved(tmp_path, data: dict, keys: list[str]) -> dict:
    result = invoke("solve", write(tmp_path, {**data, "ask": keys}, "solve"), "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def to_mp(text: str) -> mpmath.mpf:
    """A value string from solve: a fraction, a decimal, or a short exact expression."""
    try:
        return mp(Fraction(text))
    except ValueError:
        import sympy

        return mpmath.mpf(str(sympy.N(sympy.sympify(text), 40)))


def first_entry(value):
    while isinstance(value, list):
        value = value[0]
    return value


def scalar_of(value):
    while isinstance(value, list):
        assert len(value) == 1, value
        value = value[0]
    return value


# ------------------------------------------------------------------ sgd and momentum: exact

EXACT_CASES = [
    ("linear", "sgd", "1/100", 3, {}),
    ("bias", "sgd", "1/20", 3, {}),
    ("vector", "sgd", "1/20", 2, {}),
    ("linear", "momentum", "1/100", 3, {}),  # default momentum 0.9
    ("bias", "momentum", "1/20", 3, {"momentum": "1/2"}),
    ("vector", "momentum", "1/20", 3, {}),
]


@pytest.mark.parametrize("name,optimizer,rate,steps,hyper", EXACT_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[4] or 'default'}" for c in EXACT_CASES])
def test_exact_optimizers_match_pytorch_rules(tmp_path, name, optimizer, rate, steps, hyper):
    model = MODELS[name]
    history = run(model, optimizer, Fraction(rate), steps,
                  **{k: Fraction(v) for k, v in hyper.items()})
    # the trajectory must really move, or the test would prove little
    assert history[1][0] != history[0][0] and history[2][0] != history[1][0]
    train = {"rate": rate, "steps": steps, "params": model.params, "optimizer": optimizer, **hyper}
    check_all_correct(tmp_path, exercise(model, train), keys_and_answers(model, history, exact))


def test_sgd_solve_prints_the_exact_values(tmp_path):
    history = run(Linear, "sgd", Fraction(1, 100), 2)
    data = exercise(Linear, {"rate": "1/100", "steps": 2, "params": ["w"]})  # sgd is the default
    got = solved(tmp_path, data, ["w@1", "w@2", "loss@2"])
    assert Fraction(got["w@1"]) == history[1][0]["w"][0]
    assert Fraction(got["w@2"]) == history[2][0]["w"][0]
    assert Fraction(got["loss@2"]) == history[2][1]


def test_momentum_differs_from_sgd_after_the_first_step(tmp_path):
    # step 1 is the same (buf = g); from step 2 on, momentum remembers
    sgd = run(Linear, "sgd", Fraction(1, 100), 2)
    mom = run(Linear, "momentum", Fraction(1, 100), 2)
    assert sgd[1][0] == mom[1][0] and sgd[2][0] != mom[2][0]
    data = exercise(Linear, {"rate": "1/100", "steps": 2, "params": ["w"], "optimizer": "momentum"})
    got = solved(tmp_path, data, ["w@1", "w@2"])
    assert Fraction(got["w@1"]) == mom[1][0]["w"][0]
    assert Fraction(got["w@2"]) == mom[2][0]["w"][0] != sgd[2][0]["w"][0]


def test_decimal_rate_is_exact(tmp_path):
    # rate: 0.1 is 1/10 exactly (SPEC: a decimal in given is exact as written)
    history = run(Linear, "sgd", Fraction(1, 10), 2)
    data = exercise(Linear, {"rate": 0.1, "steps": 2, "params": ["w"]})
    got = solved(tmp_path, data, ["w@2"])
    assert Fraction(got["w@2"]) == history[2][0]["w"][0]


# ------------------------------------------------------------------ adam: 1e-12 relative

ADAM_CASES = [
    ("linear", "1/100", 3, {}),
    ("bias", "1/10", 3, {}),
    ("vector", "1/10", 3, {}),
    ("bias", "1/10", 3, {"beta1": "4/5", "beta2": "99/100", "eps": "1/1000"}),
]


@pytest.mark.parametrize("name,rate,steps,hyper", ADAM_CASES,
                         ids=[f"{c[0]}-{'custom' if c[3] else 'default'}" for c in ADAM_CASES])
def test_adam_matches_pytorch_rules(tmp_path, name, rate, steps, hyper):
    model = MODELS[name]
    history = run(model, "adam", mp(Fraction(rate)), steps, number=lambda v: mp(v) if not
                  isinstance(v, mpmath.mpf) else v, **{k: Fraction(v) for k, v in hyper.items()})
    train = {"rate": rate, "steps": steps, "params": model.params, "optimizer": "adam", **hyper}
    data = exercise(model, train, tolerance={"rel": "1e-12", "abs": 0})
    check_all_correct(tmp_path, data, keys_and_answers(model, history, decimal))
    # and read back from solve: the printed values agree to 1e-12 as well
    got = solved(tmp_path, data, [f"{model.params[0]}@{steps}", f"loss@{steps}"])
    for key, want in ((f"{model.params[0]}@{steps}", history[steps][0][model.params[0]][0]),
                      (f"loss@{steps}", history[steps][1])):
        value = to_mp(first_entry(got[key]))
        assert abs(value - want) <= mpmath.mpf("1e-12") * abs(want), (key, got[key], want)


def test_adam_defaults_are_pytorchs(tmp_path):
    # with eps = 1e-8 by default, step 1 moves w by rate * g/(|g| + 1e-8): just under rate
    g = Linear.grads({"w": [Fraction(1)]}, {"x": 3, "y": 5})["w"][0]
    w1 = 1 - Fraction(1, 100) * g / (abs(g) + Fraction(1, 10**8))
    data = exercise(Linear, {"rate": "1/100", "steps": 1, "params": ["w"], "optimizer": "adam"})
    assert Fraction(solved(tmp_path, data, ["w@1"])["w@1"]) == w1
    # beta defaults show from step 2 on: compare against explicit 0.9 / 0.999 / 1e-8
    explicit = exercise(Linear, {"rate": "1/100", "steps": 3, "params": ["w"], "optimizer": "adam",
                                 "beta1": 0.9, "beta2": 0.999, "eps": "1e-8"})
    default = exercise(Linear, {"rate": "1/100", "steps": 3, "params": ["w"], "optimizer": "adam"})
    assert solved(tmp_path, explicit, ["w@3"]) == solved(tmp_path, default, ["w@3"])


# ------------------------------------------------------------------ the shipped MLP exercise

def test_train_mlp_descends_and_matches_a_float_reference(tmp_path):
    path = ROOT / "exercises" / "train-mlp-2-3-3-1.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    got = solved(tmp_path, data, ["loss", "loss@1", "W3@1", "B3@1", "W1@1"])
    loss0, loss1 = float(scalar_of(got["loss"])), float(scalar_of(got["loss@1"]))
    assert loss1 < loss0

    # an independent float64 forward/backward pass and one sgd step
    g = {k: np.array(v, dtype=float) for k, v in data["given"].items()}
    col = lambda a: a.reshape(-1, 1) if a.ndim == 1 else a  # flat lists are columns
    g = {k: col(v) if v.ndim else v for k, v in g.items()}
    sig = lambda z: 1 / (1 + np.exp(-z))

    def forward(p):
        x2 = sig(p["W1"] @ g["x"] + p["B1"])
        x3 = sig(p["W2"] @ x2 + p["B2"])
        x4 = sig(p["W3"] @ x3 + p["B3"])
        return x2, x3, x4, float(((x4 - g["y"]) ** 2)[0, 0])

    p = {k: g[k] for k in ("W1", "B1", "W2", "B2", "W3", "B3")}
    x2, x3, x4, loss = forward(p)
    d4 = 2 * (x4 - g["y"]) * x4 * (1 - x4)
    d3 = (p["W3"].T @ d4) * x3 * (1 - x3)
    d2 = (p["W2"].T @ d3) * x2 * (1 - x2)
    grads = {"W3": d4 @ x3.T, "B3": d4, "W2": d3 @ x2.T, "B2": d3, "W1": d2 @ g["x"].T, "B1": d2}
    rate = float(data["train"]["rate"])
    new = {k: p[k] - rate * grads[k] for k in p}
    *_, loss_after = forward(new)

    assert loss0 == pytest.approx(loss, rel=1e-9)
    assert loss1 == pytest.approx(loss_after, rel=1e-9)
    for key in ("W3", "B3", "W1"):
        tool = np.array([[float(e) for e in row] for row in got[f"{key}@1"]])
        np.testing.assert_allclose(tool, new[key], rtol=1e-9)


# ------------------------------------------------------------------ errors in `train`

BASE = """\
backprop: 1
given:
  x: 1
  y: 2
  w: 1
steps:
  y_hat: x * w
  r: y_hat - y
  loss: r**2
train:
  rate: {rate}
  steps: {steps}
  params: [{params}]
  optimizer: {optimizer}
ask:
  - {ask}
"""

ERRORS = [
    # (what, fields, the text on the offending line, words the message must contain)
    ("param not a given", {"params": "v"}, "params: [v]", ["v", "given"]),
    ("param is a step", {"params": "r"}, "params: [r]", ["r", "given"]),
    ("unknown optimizer", {"optimizer": "rmsprop"}, "optimizer: rmsprop", ["rmsprop", "optimizer"]),
    ("steps 0", {"steps": "0"}, "steps: 0", ["steps"]),
    ("steps not whole", {"steps": "1.5"}, "steps: 1.5", ["steps"]),
    ("rate 0", {"rate": "0"}, "rate: 0", ["rate"]),
    ("rate negative", {"rate": "-0.1"}, "rate: -0.1", ["rate"]),
    ("key beyond steps", {"ask": "w@5"}, "- w@5", ["w@5", "2"]),
    ("key of an untrained given", {"ask": "x@1"}, "- x@1", ["x@1", "x"]),
    ("key of an unknown name", {"ask": "v@1"}, "- v@1", ["v"]),
]


def broken(tmp_path, **fields) -> tuple[Path, str]:
    values = {"rate": "0.1", "steps": "2", "params": "w", "optimizer": "sgd", "ask": "w@1", **fields}
    text = BASE.format(**values)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.mark.parametrize("what,fields,line_text,words", ERRORS, ids=[e[0] for e in ERRORS])
def test_train_errors_are_located(tmp_path, what, fields, line_text, words):
    path, text = broken(tmp_path, **fields)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.strip() == line_text.strip())
    result = invoke("validate", path)
    assert result.exit_code == 2, result.output
    located = re.findall(rf"{re.escape(path.name)}:(\d+):(\d+): (.*)", result.output)
    assert located, result.output
    first_line, _, message = located[0]
    assert int(first_line) == line, result.output
    for word in words:
        assert word in message, (word, result.output)
    # check refuses the file the same way, and it is graded no further
    check = invoke("check", path, "--format", "json")
    assert check.exit_code == 2
    assert json.loads(check.stdout)["exercises"][0]["error"]


@pytest.mark.parametrize("what,fields", [
    ("unknown optimizer", {"optimizer": "rmsprop"}),
    ("steps 0", {"steps": "0"}),
    ("rate 0", {"rate": "0"}),
    ("param not a given", {"params": "v"}),
])
def test_a_broken_train_block_is_not_reported_as_missing(tmp_path, what, fields):
    """One mistake in `train` is one error: the asks of w@1 are not also told that
    'the exercise has no train' -- it has one, with a mistake in it."""
    path, _ = broken(tmp_path, **fields)
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "has no 'train'" not in result.output, result.output


def test_valid_train_block_validates(tmp_path):
    path, _ = broken(tmp_path)
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
