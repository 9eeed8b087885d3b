"""backprop: a checker for hand-worked backpropagation exercises.

The package is a library (loading, parsing, engine, grading) with a thin
command-line layer in :mod:`backprop_cli.cli` and renderers in
:mod:`backprop_cli.render`.  Importing the package itself is cheap: SymPy is
only imported by the modules that need it.
"""

__version__ = "0.1.0"
