"""Shared by the HTML tests: an answers file for the 2-3-3-1 network with one wrong answer."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLP = ROOT / "exercises" / "mlp-2-3-3-1.yaml"

# Every answer right except dloss/dW2, which is written transposed.
ONE_WRONG = """\
exercise: mlp-2-3-3-1
loss: 0.00235183212378254
dloss/dW3: [[-0.0128256533218841, -0.0124608735344342, -0.012054845086914]]
dloss/dB3: [[-0.0239905574648803]]
dloss/dW2: [[-0.000555153207689491, 0.00037132397359401, -0.000185937540443074],
            [-0.00148986985666123, 0.000996525621487208, -0.000499002316641228],
            [-0.00107205166892197, 0.000717060588119398, -0.000359062413377491]]
dloss/dx2: [[-5.84370670887654e-5], [0.000358636159525985], [-0.000538560903578692]]
dloss/dW1: [[-6.25012764324695e-5, -8.75017870054572e-5], [0.000250621747898309, 0.000350870447057632],
            [-0.000646975221605242, -0.000905765310247338]]
"""


def one_wrong_answers(folder: Path) -> Path:
    path = folder / "answers.yaml"
    path.write_text(ONE_WRONG)
    return path
