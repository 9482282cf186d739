def test_not_worse_has_three_outcomes() -> None:
    from omnijepa.eval.significance import not_worse

    zero = [0.0, 0.0, 0.0]
    assert not_worse("close", [0.01, 0.0, 0.005], zero, 0.02)[0].passed is True
    assert not_worse("far behind", [-0.1, -0.11, -0.09], zero, 0.02)[0].passed is False
    noisy, gap = not_worse("noisy", [-0.027, 0.037, -0.019], zero, 0.02)
    assert noisy.passed is None and "undecided" in noisy.detail
    assert gap["p_not_worse"] > 0.05 and gap["p_worse"] > 0.05
