"""Four more named mistakes, each replayed on the exercise's own graph.

* ``flipped-kernel``: a conv2d gradient computed with the kernel rotated by 180°
  (true convolution where the course means cross-correlation);
* ``batch-not-summed``: a broadcast input's gradient (a bias over a batch) given
  per example, not summed over the batch;
* ``softmax-missing-onehot``: a softmax cross-entropy gradient written as ``p``
  where ``p - y`` belongs, or stopped at ``-y/p`` before the softmax's Jacobian;
* ``missing-mean`` for a forward value: a mean (of squared errors) without its 1/n.

A :class:`Mistake` is either a rule for one edge of the backward pass (``pull``,
replayed by :mod:`~backprop_cli.grading.diagnosis` like its own mistakes) or a
wrong forward value.  Nothing here lists wrong answers by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import sympy as sp

from backprop_cli.autodiff import ops, tensor_ops
from backprop_cli.autodiff.numbers import equal
from backprop_cli.autodiff.engine import forward
from backprop_cli.autodiff.graph import Node, Role
from backprop_cli.autodiff.ops import ElementwiseOp
from backprop_cli.autodiff.tensor import Value, elementwise, is_tensor, shape
from backprop_cli.exercise.keys import GradKey, ValueKey
from backprop_cli.grading.solver import Solution
from backprop_cli.grading.wording import said

Pull = Callable  # (consumer, slot, g, args, out) -> the wrong contribution, or None elsewhere


@dataclass(frozen=True)
class Mistake:
    code: str
    feedback: str
    pull: Pull | None = None  # replayed in the backward pass ...
    forward: Callable | None = None  # ... or (given, values) -> the wrong value, on a replay's values


def gradient_mistakes(solution: Solution, key: GradKey) -> Iterator[Mistake]:
    """The new gradient mistakes for ``key``, most specific first."""
    graph = solution.exercise.graph
    run = solution.backward(key.of)
    wrt = graph.by_name[key.wrt]
    path = graph.between(run.target, wrt)
    on_path = set(path)
    edges = [(c, slot) for c in path for slot, i in enumerate(c.inputs) if i in on_path and c is not wrt]
    yield from _flipped_kernel(key, edges)
    yield from _batch_not_summed(solution, key, wrt)
    yield from _softmax_missing_onehot(solution, key, edges)


def value_mistakes(solution: Solution, key: ValueKey) -> Iterator[Mistake]:
    """The new mistakes in a forward value."""
    yield from _missing_mean_value(solution, key)


# ------------------------------------------------------------------ flipped-kernel

def _rotated(k: Value) -> Value:
    return k[::-1, ::-1].copy()


def _flipped_kernel(key: GradKey, edges) -> Iterator[Mistake]:
    convs = [(c, slot) for c, slot in edges if c.op is tensor_ops.CONV2D]
    if not convs:
        return

    def pull(consumer, slot, g, args, out):
        if consumer.op is not tensor_ops.CONV2D:
            return None
        x, k = args
        if slot == 0:  # the input's gradient spread back with the kernel rotated
            return consumer.op.pull(0, g, [x, _rotated(k)], out, **consumer.params).value
        return _rotated(consumer.op.pull(1, g, args, out, **consumer.params).value)

    conv, slot = convs[0]
    x, k = (said(i) for i in conv.inputs)
    how = (f"d{key.of}/d{x} adds g[i,j]·{k}, as it is, back over window (i,j)" if slot == 0
           else f"d{key.of}/d{k} adds g[i,j] times window (i,j) of {x}, not rotated")
    yield Mistake("flipped-kernel",
                  f"your answer rotates the kernel by 180°: conv2d in step '{conv.step}' is a "
                  f"cross-correlation (as deep-learning frameworks define it), so {how}", pull)


# ------------------------------------------------------------------ batch-not-summed

def _batch_not_summed(solution: Solution, key: GradKey, wrt: Node) -> Iterator[Mistake]:
    """The gradient of a broadcast given before it is summed back to its shape."""
    values = solution.exercise.values
    if wrt.role is not Role.GIVEN:
        return
    spread = [c for c in solution.exercise.graph.consumers(wrt) if isinstance(c.op, ElementwiseOp)
              and shape(values[c]) != shape(values[wrt]) and is_tensor(values[c])]
    if not spread:
        return
    consumer = spread[0]
    count, what = _spread(shape(values[wrt]), shape(values[consumer]))

    def pull(c, slot, g, args, out):
        if c not in spread or c.inputs[slot] is not wrt:
            return None
        local = c.op.local(slot, args, out)
        return elementwise(lambda a, b: a * b, g, local)  # not summed back

    yield Mistake("batch-not-summed",
                  f"your answer gives a gradient for each example of the batch: {wrt.name} is "
                  f"broadcast over {count} {what} in step '{consumer.step}', so d{key.of}/d{wrt.name} "
                  f"is the sum of those {count} gradients", pull)


def _spread(small: tuple, big: tuple) -> tuple[int, str]:
    """How many copies a broadcast makes, and of what: (4, 'columns'), (4, 'entries')."""
    if small and small[1] == 1 and big[1] > 1 and small[0] == big[0]:
        return big[1], "columns"
    if small and small[0] == 1 and big[0] > 1 and small[1] == big[1]:
        return big[0], "rows"
    return big[0] * big[1] // max(1, (small or (1, 1))[0] * (small or (1, 1))[1]), "entries"


# ------------------------------------------------------------------ softmax-missing-onehot

def _softmax_missing_onehot(solution: Solution, key: GradKey, edges) -> Iterator[Mistake]:
    run = solution.backward(key.of)
    values = solution.exercise.values
    for softmax, slot in edges:
        if softmax.op is not tensor_ops.SOFTMAX:
            continue
        logits = softmax.inputs[0]
        p, grad = values[softmax], run.grad(logits)
        label = elementwise(lambda a, b: a - b, p, grad)
        if not _one_hot(label):
            continue  # not a cross-entropy of this softmax: p - y is not its gradient
        s, probabilities = said(logits), said(softmax)
        yield Mistake("softmax-missing-onehot",
                      f"your answer uses {probabilities} = softmax({s}) where {probabilities} - y belongs: "
                      f"the cross-entropy's gradient with respect to {s} subtracts the one-hot label",
                      lambda c, sl, g, args, out, n=softmax: out if c is n else None)
        yield Mistake("softmax-missing-onehot",
                      f"your answer stops at d{key.of}/d{probabilities} = -y/{probabilities}: the "
                      f"softmax in step '{softmax.step}' still has to be crossed, and its Jacobian "
                      f"turns -y/{probabilities} into {probabilities} - y",
                      lambda c, sl, g, args, out, n=softmax: g if c is n else None)
        return


def _one_hot(value: Value) -> bool:
    """A vector of 0s with a single 1 (exactly, however the entries are written)."""
    ones = 0
    for e in (list(value.flat) if is_tensor(value) else [value]):
        if equal(e, sp.Integer(1)):
            ones += 1
        elif not equal(e, sp.Integer(0)):
            return False
    return ones == 1


# ------------------------------------------------------------------ missing-mean, forward

def _missing_mean_value(solution: Solution, key: ValueKey) -> Iterator[Mistake]:
    """A step that depends on a mean, computed with the sum in the mean's place."""
    ex = solution.exercise
    node = ex.graph.by_name[key.name]
    for mean in ex.graph.ancestors(node):
        if mean.op is not tensor_ops.MEAN:
            continue
        n = ex.values[mean.inputs[0]].size

        def summed(given, values, mean=mean, n=n):
            return forward(ex.graph, given, fixed={mean: values[mean] * n})[node]

        yield Mistake("missing-mean",
                      f"your answer is the sum where step '{mean.step}' takes the mean of {n} numbers: "
                      f"divide by {n}", forward=summed)
    for divide in ex.graph.ancestors(node):  # a mean written out: sum(r*r)/4
        if not _sum_over_count(divide, ex.values):
            continue
        n = ex.values[divide.inputs[1]]

        def undivided(given, values, divide=divide, n=n):
            return forward(ex.graph, given, fixed={divide: values[divide] * n})[node]

        yield Mistake("missing-mean",
                      f"your answer is the sum where step '{divide.step}' divides it by {n} for the mean: "
                      f"divide by {n}", forward=undivided)


def _sum_over_count(node, values) -> bool:
    """``sum(v) / n`` with n the number of entries of v (above 1): a mean, written out."""
    if node.op is not ops.DIV or node.inputs[0].op is not tensor_ops.SUM:
        return False
    summed, n = values[node.inputs[0].inputs[0]], values[node.inputs[1]]
    return is_tensor(summed) and summed.size > 1 and not is_tensor(n) and n == summed.size
