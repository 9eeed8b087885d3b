"""The one table of operations: every name the exercise language can call.

The parser reads function names, arities and keywords from here (it is
handed :data:`FUNCTIONS`), and the graph builder takes each op from here, so
adding an operation is writing it (forward rule beside its derivative) in
:mod:`~backprop_cli.autodiff.ops` or :mod:`~backprop_cli.autodiff.tensor_ops`
and adding it to this table.
"""

from __future__ import annotations

from backprop_cli.autodiff import ops, tensor_ops
from backprop_cli.autodiff.op import Op

FUNCTIONS: dict[str, Op] = {op.name: op for op in (
    ops.EXP, ops.LOG, ops.SQRT, ops.SIN, ops.COS, ops.TAN, ops.TANH, ops.SIGMOID, ops.RELU, ops.ABS,
    ops.SOFTPLUS, ops.MAX, ops.MIN,
    tensor_ops.SUM, tensor_ops.MEAN, tensor_ops.TRANSPOSE, tensor_ops.SOFTMAX, tensor_ops.CONV2D,
)}

OPERATORS: dict[str, Op] = {"+": ops.ADD, "-": ops.SUB, "*": ops.MUL, "/": ops.DIV, "**": ops.POW,
                            "@": tensor_ops.MATMUL}
