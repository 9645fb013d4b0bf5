"""The command line: list, check, run (text and --json), exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import SCENARIOS

DEADLOCK = str(SCENARIOS / "deadlock_mutex.yaml")


def tui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui_conc", *args], capture_output=True, text=True, timeout=timeout
    )


def test_list_shows_every_scenario_with_chapter_backend_validity() -> None:
    out = tui("list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(list(SCENARIOS.glob("*.yaml")))
    assert any("Locks & deadlock" in line and "thread" in line and "ok" in line for line in lines)


def test_list_flags_a_broken_file_and_still_lists_the_rest(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text((SCENARIOS / "race_counter.yaml").read_text())
    (tmp_path / "b.yaml").write_text("title: x\nchapter: y\nactors:\n  w:\n    steps: [{nap: 1}]\n")
    out = tui("--scenarios", str(tmp_path), "list")
    assert out.returncode == 2
    assert "Race: lost updates" in out.stdout
    assert f"INVALID  {tmp_path / 'b.yaml'}:5: unknown step 'nap'" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_check_exit_codes_and_one_line_per_problem(tmp_path) -> None:
    assert tui("check", DEADLOCK).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: t\nchapter: c\nactors:\n  w:\n    steps:\n      - acquire: nolock\n")
    out = tui("check", DEADLOCK, str(bad))
    assert out.returncode == 2
    assert (
        out.stderr.strip() == f"{bad}:6: acquire: unknown resource 'nolock' (no resources declared)"
    )


def test_run_json_report_has_the_contracted_keys() -> None:
    out = tui("run", DEADLOCK, "--json", "--set", "workers=4")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert {"outcome", "cycle", "resources", "variables", "duration_s", "expectations"} <= set(
        report
    )
    assert report["outcome"] == "deadlock"
    assert {e["waits_for"] for e in report["cycle"]} == {"mutexA", "mutexB"}
    assert all({"actor", "holds", "waits_for"} <= set(e) for e in report["cycle"])
    assert report["resources"]["mutexA"]["max_holders"] == 1
    assert report["knobs"]["workers"] == 4
    assert all(e["passed"] for e in report["expectations"])


def test_run_text_report_and_failing_expectation_exit_1(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "title: t\nchapter: c\nresources: {n: {type: variable, value: 1}}\n"
        "actors:\n  w:\n    steps: [{write: n, value: 2}]\nexpect:\n"
        "  - that: n == 3\n    text: n ends at 3\n"
    )
    out = tui("run", str(path))
    assert out.returncode == 1
    assert "FAIL  n ends at 3  [n=2]" in out.stdout
    assert "outcome: finished" in out.stdout


def test_run_rejects_bad_knobs_and_bad_files_with_exit_2(tmp_path) -> None:
    out = tui("run", DEADLOCK, "--set", "workers=lots")
    assert out.returncode == 2
    assert out.stderr.strip() == "--set:1: knob 'workers' wants int, got 'lots'"
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: [\n")
    out = tui("run", str(bad))
    assert out.returncode == 2
    assert out.stderr.startswith(f"{bad}:1: bad YAML")  # the file has one line


def test_run_timeout_stops_the_run(tmp_path) -> None:
    path = tmp_path / "slow.yaml"
    path.write_text("title: t\nchapter: c\nactors:\n  w:\n    steps: [{sleep: 30}]\n")
    out = tui("run", str(path), "--timeout", "0.5", "--json")
    assert json.loads(out.stdout)["outcome"] == "timeout"


def test_run_refuses_a_backend_the_scenario_does_not_support() -> None:
    out = tui("run", DEADLOCK, "--backend", "gevent")
    assert out.returncode == 2
    assert "runs on thread, process, not gevent" in out.stderr


def test_run_refuses_more_processes_than_a_run_may_start(tmp_path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "title: t\nchapter: c\nbackends: [thread, process]\nknobs: {n: 100}\n"
        "actors:\n  w:\n    count: n\n    steps: [{sleep: 0}]\n"
    )
    out = tui("run", str(path), "--backend", "process", "--set", "n=300")
    assert out.returncode == 2
    assert out.stderr.strip().endswith("a run on processes starts at most 256, this one 300")
    assert tui("run", str(path), "--set", "n=300", "--json").returncode == 0  # on threads


def test_run_on_gevent_reports_the_backend() -> None:
    path = str(SCENARIOS / "redis_event.yaml")
    out = tui("run", path, "--backend", "gevent", "--set", "check_time=0.3", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["outcome"] == "finished"


def test_bad_command_line_values_are_one_line_and_exit_2(tmp_path) -> None:
    race = str(SCENARIOS / "race_counter.yaml")
    for args, words in [
        (("--set", "workers=!!int x"), "knob 'workers' wants int"),
        (("--set", "pause=.nan"), "knob 'pause' wants a finite number"),
        (("--set", "pause=-.inf"), "knob 'pause' wants a finite number"),
        (("--set", "workers=" + "9" * 5000), "knob 'workers' wants int"),
        (("--timeout", "nan"), "must be a positive number of seconds"),
        (("--timeout", "-1"), "must be a positive number of seconds"),
        (("--memory", "0"), "must be a positive number"),
        (("--record", str(tmp_path / "no" / "such" / "dir.trace")), "--record: cannot write"),
    ]:
        out = tui("run", race, *args)
        assert out.returncode == 2, (args, out.stderr)
        assert words in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_check_refuses_what_is_not_a_regular_file(tmp_path) -> None:
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero", tmp_path / "missing.yaml"):
        out = tui("check", str(path), timeout=20)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert out.stderr.strip().startswith(f"{path}:1: cannot read the file")


def test_values_the_stream_cannot_carry_travel_anyway(tmp_path) -> None:
    path = tmp_path / "wire.yaml"
    path.write_text(
        "title: wire\nchapter: c\nresources:\n  v: {type: variable, value: 0}\n  l: listener\n"
        "actors:\n  a:\n    steps:\n      - {write: v, value: 2**64 + 1}\n"
        "      - {log: 'big {v}'}\n      - {log: \"{'x' * 10000}\"}\n"
        "      - {write: v, value: l}\n"
        "expect:\n  - log_count('18446744073709551617') == 1\n"
    )
    out = tui("run", str(path), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["outcome"] == "finished" and report["error"] is None
    assert report["expectations"][0]["passed"]  # the big number arrived exact
    assert report["variables"]["v"] == "l"  # the listener, as its repr (its name)


def test_a_run_past_its_memory_cap_is_stopped_with_a_verdict(tmp_path) -> None:
    path = tmp_path / "grow.yaml"
    path.write_text(
        "title: grow\nchapter: c\nresources:\n  q: queue\nactors:\n  a:\n    steps:\n"
        "      - while: true\n        do:\n          - {put: q, item: \"'x' * 10000 + str(i)\"}\n"
        "          - {let: {i: i + 1}}\n"
    )
    out = tui("run", str(path), "--memory", "120", "--json", timeout=90)
    report = json.loads(out.stdout)
    assert report["outcome"] == "error"
    assert "over its cap of 120 MB" in report["error"]
    assert out.returncode == 1
