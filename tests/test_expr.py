"""Safe expressions: what compiles, what is refused, and that nothing is eval'd."""

import pytest

from tui_conc.scenario.expr import ExprError, compile_expr, compile_template

FUNCS = {"double": lambda env, x: 2 * x}


@pytest.mark.parametrize(
    ("source", "env", "value"),
    [
        ("temp - 1", {"temp": 100}, 99),
        ("not ready", {"ready": False}, True),
        ("1 < x <= 3", {"x": 3}, True),
        ("double(n) + 1", {"n": 4}, 9),
        ("'a' if flag else 'b'", {"flag": 0}, "b"),
        ("[1, 2][i]", {"i": 1}, 2),
        (7, {}, 7),
    ],
)
def test_expressions_evaluate(source, env, value) -> None:
    assert compile_expr(source, FUNCS)(env) == value


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "x.y",
        "lambda: 1",
        "open('f')",
        "[x for x in y for z in x]",
        "[a for a, b in y]",
        "{k: 1 for k in y}",
        "a = 1",
        "2 +",
    ],
)
def test_unsafe_or_broken_expressions_are_refused(source) -> None:
    with pytest.raises(ExprError):
        compile_expr(source, FUNCS)


def test_names_are_collected() -> None:
    assert compile_expr("a + double(b)", FUNCS).names == {"a", "b"}


def test_templates_format_fields() -> None:
    tpl = compile_template("{actor} got {n * n + 1:>3}", FUNCS)
    assert tpl({"actor": "w-1", "n": 2}) == "w-1 got   5"
    assert tpl.names == {"actor", "n"}
    with pytest.raises(ExprError):
        compile_template("{}", FUNCS)


def test_function_tables_match_what_the_loader_accepts() -> None:
    from tui_conc.engine.steps.compiling import STEP_FUNCTIONS
    from tui_conc.scenario.functions import EXPECT_FUNCTIONS as EXPECT_NAMES
    from tui_conc.scenario.functions import STEP_FUNCTIONS as STEP_NAMES
    from tui_conc.state.expectations import EXPECT_FUNCTIONS

    assert set(STEP_FUNCTIONS) == set(STEP_NAMES)
    assert set(EXPECT_FUNCTIONS) == set(EXPECT_NAMES)
