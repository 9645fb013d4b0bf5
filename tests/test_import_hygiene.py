"""The engine, the state, the scenario layer and the exports must not pull in Textual
(or Rich)."""

import subprocess
import sys


def test_core_layers_import_no_textual() -> None:
    code = (
        "import sys, tui_conc.engine.runner, tui_conc.engine.backends.thread, tui_conc.state.fold,"
        " tui_conc.state.analysis, tui_conc.state.report, tui_conc.scenario, tui_conc.session,"
        " tui_conc.state.history, tui_conc.export.chrome, tui_conc.recordings,"
        " tui_conc.exploration.command, tui_conc.tracing.runner, tui_conc.tracing.command;"
        " print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
