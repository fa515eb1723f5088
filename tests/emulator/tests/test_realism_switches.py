"""Realism switches: registry, CLI --realism-off, fixture key, admin PUT /_emulator/realism, start_emulator."""
import subprocess
import sys
import os

import pytest

from ecs_emulator import testing
from ecs_emulator.backend.testkit import Harness, load_default_fixture
from ecs_emulator.realism import BEHAVIOURS, NAMES, UNCONFIRMED, Realism, RealismError, parse_names
from ecs_emulator.server import start_emulator

EMU_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_behaviour_is_documented_in_the_readme():
    with open(os.path.join(EMU_DIR, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    for name, (default, description, source) in BEHAVIOURS.items():
        assert "`%s`" % name in readme, name
        assert isinstance(default, bool) and description and source


def test_parse_names():
    assert parse_names(None) == []
    assert parse_names("") == []
    assert parse_names("usable_lag, task_waiting,usable_lag") == ["usable_lag", "task_waiting"]
    assert parse_names("all") == list(NAMES)
    text = "late_visibility # who fixes it\n\n# comment\ndelete_lingers"
    assert parse_names(text) == ["late_visibility", "delete_lingers"]
    with pytest.raises(RealismError, match="unknown realism behaviour 'nope'"):
        parse_names("usable_lag,nope")


def test_defaults_start_off_fixture_admin_and_reset():
    r = Realism()
    assert all(r.on(n) == BEHAVIOURS[n][0] for n in NAMES)
    assert r.on("task_waiting") and not r.on("copy_source_busy")
    r = Realism(off=["usable_lag"], fixture={"realism": {"late_visibility": False, "copy_source_busy": True}})
    assert not r.on("usable_lag") and not r.on("late_visibility") and r.on("copy_source_busy")
    r.update({"usable_lag": True, "task_waiting": False})
    assert r.on("usable_lag") and not r.on("task_waiting")
    r.reset({"realism": {"late_visibility": False}})
    assert not r.on("usable_lag") and r.on("task_waiting") and not r.on("late_visibility")
    with pytest.raises(RealismError):
        r.update({"usable_lag": "no"})
    with pytest.raises(RealismError):
        Realism(fixture={"realism": {"bogus": False}})


def test_harness_default_is_all_off_and_switchable():
    h = Harness()
    assert not any(v for n, v in h.backend.realism.as_dict().items() if n not in UNCONFIRMED)
    assert h.backend.realism.on("image_id_list") and not h.backend.realism.on("copy_source_busy")
    h.realism({"usable_lag": True})
    assert h.backend.realism.on("usable_lag")
    assert Harness(realism_off=()).backend.realism.on("usable_lag")


def test_admin_api_and_start_emulator():
    fixture = load_default_fixture()
    fixture["realism"] = {"stopped_mode": False}
    emu = start_emulator(time_scale=0.001, fixture=fixture, realism_off="usable_lag")
    try:
        state = testing.admin(emu, "GET", "realism")
        assert state["realism"]["usable_lag"] is False and state["realism"]["stopped_mode"] is False
        assert state["realism"]["task_waiting"] is True
        assert state["behaviours"]["task_waiting"]["source"]
        state = testing.admin(emu, "PUT", "realism", {"task_waiting": False, "usable_lag": True})
        assert state["realism"]["task_waiting"] is False and state["realism"]["usable_lag"] is True
        assert emu.backend.realism.on("usable_lag")
        with pytest.raises(Exception):
            testing.admin(emu, "PUT", "realism", {"nope": False})
        testing.admin(emu, "POST", "reset")
        state = testing.admin(emu, "GET", "realism")["realism"]
        assert state["task_waiting"] is True and state["usable_lag"] is False and state["stopped_mode"] is False
        assert testing.admin(emu, "GET", "")["realism"]["usable_lag"] is False
    finally:
        emu.stop()


def test_cli_refuses_an_unknown_name_before_serving():
    out = subprocess.run([sys.executable, "-m", "ecs_emulator", "--realism-off", "usable_lag,bogus"],
                         capture_output=True, text=True, timeout=60, cwd=EMU_DIR, check=False)
    assert out.returncode == 2
    assert "--realism-off" in out.stderr and "bogus" in out.stderr
