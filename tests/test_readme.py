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


def _run(path, knobs: dict) -> list:
    scenario = parse_scenario(path.read_text(encoding="utf-8"), "README.md")
    run = LiveRun(path, knobs).start()
    try:
        assert run.wait(30)
    finally:
        run.stop()
    return check(scenario, run.snapshot(), run.log_texts())


def test_readme_example_loads_and_meets_its_expectations(tmp_path) -> None:
    source = readme_example()
    assert parse_scenario(source, "README.md").title == "Race: lost updates"
    path = tmp_path / "readme_example.yaml"
    path.write_text(source, encoding="utf-8")
    results = _run(path, {"workers": 30, "pause": 0.05, "start": 40})
    assert [r.outcome for r in results] == ["passed", "passed"], results
    # one worker cannot race with anyone: the lesson's claim must then fail (an
    # expectation that cannot fail would teach nothing). Not "pause: 0": a race is
    # then rare, but not impossible, and a busy machine made it pass.
    results = _run(path, {"workers": 1, "pause": 0.05, "start": 40})
    assert [r.outcome for r in results] == ["failed", "passed"], results
