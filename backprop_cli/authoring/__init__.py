"""Authoring: what teachers run on their exercises before students see them.

``validate`` proves the answer key (:mod:`.proof`), warns about exercises that
are valid but weak (:mod:`.lint`) and runs the question tests
(:mod:`.questiontests`); :mod:`.copies` writes students' blank copies and
per-student variants; :mod:`.catalog` lists a folder; :mod:`.schema` is the
JSON Schema of the format.  This stage sits after grading (question tests
grade sample answers) and before the renderers and commands.
"""
