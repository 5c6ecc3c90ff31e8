"""Injected transient failures: spent one per try, absent means no effect."""

import pytest

from dwh_tools import faults


def test_injected_fault_fails_the_next_tries_then_lets_the_task_run(tmp_path, monkeypatch):
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    faults.raise_if_injected("d", "t")  # nothing injected: no effect
    faults.inject("d", "t", times=2)
    for left in (1, 0):
        with pytest.raises(faults.InjectedFault, match=f"d.t \\({left} more to come"):
            faults.raise_if_injected("d", "t")
    faults.raise_if_injected("d", "t")
    faults.raise_if_injected("d", "other")


def test_inject_refuses_zero_times(tmp_path, monkeypatch):
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="at least 1"):
        faults.inject("d", "t", times=0)
