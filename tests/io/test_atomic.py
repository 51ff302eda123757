"""Atomic writes: a failure leaves the old file and no temporary behind."""

from __future__ import annotations

import pytest

from autograd_nn._atomic import atomic_write, atomic_write_text


def test_failed_write_keeps_the_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")

    def half_then_fail(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_replaces_and_keeps_line_ends(tmp_path):
    target = tmp_path / "a.csv"
    atomic_write_text(target, "x\r\ny\r\n")
    assert target.read_bytes() == b"x\r\ny\r\n"
    atomic_write_text(target, "z")
    assert target.read_text() == "z"


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*nowhere does not exist"):
        atomic_write_text(tmp_path / "nowhere" / "a.txt", "x")


def test_concurrent_saves_to_one_path_leave_one_complete_checkpoint(tmp_path):
    """Four writers racing on one path: each replace is atomic, so the file that remains is
    exactly one writer's, intact, and no temporary file is left behind."""
    import threading

    import numpy as np

    import autograd_nn as ag

    path = tmp_path / "shared.safetensors"
    states = [{"w": np.full((256, 256), float(i)), "writer": i} for i in range(4)]
    start = threading.Barrier(len(states))

    def write(state):
        start.wait()
        for _ in range(5):
            ag.save(state, path)

    threads = [threading.Thread(target=write, args=(state,)) for state in states]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loaded = ag.load(path)  # passes its integrity check
    assert np.all(loaded["w"].numpy() == loaded["writer"])
    assert [p.name for p in tmp_path.iterdir()] == ["shared.safetensors"]
