"""Steps no shipped scenario covers yet, run on real threads through the runner."""

from __future__ import annotations

import textwrap

from tui_conc.scenario import parse_scenario
from tui_conc.session import LiveRun
from tui_conc.state.expectations import check


def run(tmp_path, body: str, overrides: dict | None = None):
    text = "title: t\nchapter: c\n" + textwrap.dedent(body)
    scenario = parse_scenario(text)
    path = tmp_path / "s.yaml"
    path.write_text(text)
    live = LiveRun(path, overrides).start()
    try:
        assert live.wait(20)
    finally:
        live.stop()
    snapshot = live.snapshot()
    return snapshot, check(scenario, snapshot, live.log_texts()), live.log_texts()


def test_condition_wait_and_notify(tmp_path) -> None:
    snap, results, _ = run(
        tmp_path,
        """
        resources:
          cond: condition
          box: {type: variable, value: 0}
        actors:
          consumer:
            steps:
              - with: cond
                do:
                  - read: box
                    as: v
                  - while: v == 0
                    do:
                      - wait: cond
                      - read: box
                        as: v
              - log: "got {v}"
          producer:
            steps:
              - sleep: 0.1
              - with: cond
                do:
                  - write: box
                    value: 42
                  - notify: cond
        expect:
          - log_count('got 42') == 1
          - max_holders(cond) == 1
        """,
    )
    assert snap.status == "finished"
    assert all(r.passed for r in results), results


def test_lifo_and_priority_queues_order_their_gets(tmp_path) -> None:
    _, _, log = run(
        tmp_path,
        """
        resources:
          stack: {type: queue, kind: lifo}
          prio: {type: queue, kind: priority}
        actors:
          main:
            steps:
              - repeat: 3
                as: n
                do:
                  - put: stack
                    item: n
                  - put: prio
                    item: 3 - n
              - repeat: 3
                do:
                  - get: stack
                    as: a
                  - get: prio
                    as: b
                  - log: "{a} {b}"
        """,
    )
    assert log == ["2 1", "1 2", "0 3"]


def test_start_join_and_daemons_cut_off(tmp_path) -> None:
    snap, _, log = run(
        tmp_path,
        """
        actors:
          main:
            steps:
              - start: helper
              - start: ghost
              - join: helper
              - log: "all over"
          helper:
            autostart: false
            count: 2
            steps:
              - sleep: 0.1
              - log: "{actor} done"
          ghost:
            autostart: false
            daemon: true
            steps:
              - sleep: 30
        """,
    )
    assert log[-1] == "all over"
    assert sorted(log[:2]) == ["helper-0 done", "helper-1 done"]
    states = {a.name: a.state for a in snap.actors}
    assert states == {"main": "done", "helper-0": "done", "helper-1": "done", "ghost": "killed"}
    assert snap.elapsed_s < 5


def test_non_blocking_get_runs_on_empty_and_put_on_full(tmp_path) -> None:
    _, results, log = run(
        tmp_path,
        """
        resources:
          q: {type: queue, maxsize: 1}
          sem: {type: bounded_semaphore, value: 1}
        actors:
          main:
            steps:
              - get: q
                block: false
                on_empty: [{log: "empty"}]
              - put: q
                item: 1
              - put: q
                item: 2
                timeout: 0.05
                on_full: [{log: "full"}]
              - acquire: sem
                blocking: false
                as: first
              - acquire: sem
                blocking: false
                as: second
              - log: "{first} {second}"
              - release: sem
              - release: sem
        expect:
          - state('main') == 'failed'
          - put_blocks(q) == 1
        """,
    )
    assert log[:3] == ["empty", "full", "True False"]
    assert log[3].startswith("✗ failed: line")  # the second release is one too many…
    assert "Semaphore released too many times" in log[3]
    assert all(r.passed for r in results), results  # …which the scenario expects
