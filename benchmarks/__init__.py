"""Speed benchmarks: ``python -m benchmarks`` from the repository's root prints one table.

Every figure is a ratio against a baseline measured in the same run (see run.py).
"""
