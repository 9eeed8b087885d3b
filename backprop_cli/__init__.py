"""backprop: a checker for hand-worked backpropagation exercises.

The package is a library (loading, parsing, engine, grading) with a thin
command-line layer in :mod:`backprop_cli.cli` and renderers in
:mod:`backprop_cli.render`.  Importing the package itself is cheap: SymPy is
only imported by the modules that need it, and the notebook API
(:mod:`backprop_cli.api`: ``load``, ``check``, ``explanation``) on first use.
"""

__version__ = "0.1.0"
__all__ = ["check", "explanation", "load"]  # (backprop_cli.explain is a subpackage)


def __getattr__(name: str):
    """``from backprop_cli import load, check, explanation``, imported only when first used."""
    if name in __all__:
        from backprop_cli import api

        return getattr(api, name)
    raise AttributeError(f"module 'backprop_cli' has no attribute '{name}'")
