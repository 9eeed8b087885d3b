"""Every size, depth and time bound in one place.

Exercise files come from colleagues and the internet, answers from students;
these limits keep a hostile file from hanging or exhausting the grader.  They
are documented in docs/limits.md; change them here only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 1 << 20  # an exercise or answers file
    max_yaml_depth: int = 20  # nesting of YAML collections
    max_expr_length: int = 2000  # characters in one expression or answer
    max_expr_depth: int = 40  # nesting of the expression tree
    max_int_digits: int = 100  # digits of one integer literal (or mantissa)
    max_literal_exponent: int = 100  # |N| in a literal such as 1e-N
    max_power_exponent: int = 1000  # |n| in a ** n when both sides are numbers
    max_number_bits: int = 12000  # numerator or denominator of an exact rational (about 3600 digits)
    max_graph_nodes: int = 5000  # nodes after decomposing all steps
    max_picture_nodes: int = 400  # nodes of a graph that is drawn (explain's pictures, HTML reports)
    max_tensor_entries: int = 10000  # entries of one tensor value or answer (longer lists are not parsed)
    max_yaml_values: int = 100000  # values (scalars and collections) in one file
    max_points: int = 10**6  # points of one ask, and each tolerance
    max_train_steps: int = 50  # updates in one `train` block
    answer_seconds: float = 2.0  # CPU time for one answer: reading, comparing, diagnosing, tracing
    load_seconds: float = 10.0  # CPU time for reading a file, and again for working out its exercise
    memory_mb: int = 4096  # address space grading may add to what the worker already maps
    proof_seconds: float = 15.0  # validate: each of sympy.diff and finite differences, per exercise
    proof_max_nodes: int = 20000  # validate: a composed expression larger than this skips sympy.diff
    proof_max_entries: int = 100  # validate: entries of one gradient checked (spread over the tensor)


DEFAULT = Limits()
