"""Renderers: pure functions from plain results (Trace, Report) to output.

``terminal`` builds rich renderables (coloured on a terminal, plain when
piped); ``markdown`` and ``jsonout`` build text and dicts for documents and
scripts; ``keyfile`` writes answer files.
"""
