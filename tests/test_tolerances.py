import math

import pytest
import torch

from course_lib.tolerances import assert_close


def test_accepts_figures_within_their_band():
    assert_close(23.31, 23.35, 0.05, "PSNR")
    assert_close([0.5, 0.61], [0.52, 0.6], [0.03, 0.02], "SSIM")
    assert_close({"a": (1.0, 2.0), "b": 3.0}, {"a": (1.05, 2.0), "b": 3.0}, {"a": 0.1, "b": 0.0}, "table")


def test_a_sequence_of_tolerances_belongs_to_the_innermost_rows():
    rows = [(20.0, 0.50, 0.1, 0.1), (21.0, 0.60, 0.1, 0.1), (22.0, 0.70, 0.1, 0.1), (23.0, 0.80, 0.1, 0.1)]
    shifted = [(p + 0.05, s + 0.001, a, b) for p, s, a, b in rows]
    assert_close(shifted, rows, (0.1, 0.002, 0.0, 0.0), "table")  # 4 rows of 4: the columns get the tolerances
    with pytest.raises(AssertionError, match=r"table\[3\]\[1\]"):
        assert_close(shifted, rows, (0.1, 0.0005, 0.0, 0.0), "table")
    with pytest.raises(ValueError, match="2 tolerances for 4 numbers"):
        assert_close(shifted, rows, (0.1, 0.002), "table")


def test_names_every_figure_out_of_its_band():
    with pytest.raises(AssertionError) as caught:
        assert_close({"PCA": 20.0, "AE": 25.0, "ok": 1.0}, {"PCA": 21.0, "AE": 23.0, "ok": 1.0}, 0.5, "PSNR")
    message = str(caught.value)
    assert "PSNR['PCA'] = 20, expected 21 ± 0.5" in message and "PSNR['AE'] = 25" in message and "'ok'" not in message


@pytest.mark.parametrize("measured", [math.nan, math.inf, -math.inf])
def test_non_finite_measurement_fails(measured):
    with pytest.raises(AssertionError, match="expected 1 ± 1"):
        assert_close(measured, 1.0, 1.0, "x")


@pytest.mark.parametrize(("measured", "expected", "tolerance", "error", "match"), [
    (torch.tensor(1.0), 1.0, 0.1, TypeError, "measured must be a real number"),
    (True, 1.0, 0.1, TypeError, "measured must be a real number"),
    (1.0, 1.0, "0.1", TypeError, "tolerance must be a real number"),
    (1.0, 1.0, -0.1, ValueError, "tolerance finite and ≥ 0"),
    (1.0, math.nan, 0.1, ValueError, "expected must be finite"),
    ([1.0], [1.0, 2.0], 0.1, ValueError, "a sequence of 2 numbers"),
    ({"a": 1.0}, {"b": 1.0}, 0.1, ValueError, r"a mapping with keys \['b'\]"),
    (1.0, {"b": 1.0}, 0.1, ValueError, "a mapping with keys"),
])
def test_bad_input_gets_a_clear_error(measured, expected, tolerance, error, match):
    with pytest.raises(error, match=match):
        assert_close(measured, expected, tolerance, "figure")


def test_what_must_name_the_figure():
    with pytest.raises(TypeError, match="what must be a non-empty string"):
        assert_close(1.0, 1.0, 0.1, "")
