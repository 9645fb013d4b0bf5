"""The README's complete scenario example must load and teach what it says."""

from __future__ import annotations

import re

from tui_conc.scenario import parse_scenario
from tui_conc.session import LiveRun
from tui_conc.state.expectations import check

from .conftest import ROOT


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has no YAML example"
    return blocks[0]


def test_readme_example_loads_and_meets_its_expectations(tmp_path) -> None:
    source = readme_example()
    scenario = parse_scenario(source, "README.md")
    assert scenario.title == "Race: lost updates"
    path = tmp_path / "readme_example.yaml"
    path.write_text(source, encoding="utf-8")
    run = LiveRun(path, {"workers": 30, "pause": 0.05}).start()
    try:
        assert run.wait(30)
    finally:
        run.stop()
    results = check(scenario, run.snapshot(), run.log_texts())
    assert [r.passed for r in results] == [True, True], results
