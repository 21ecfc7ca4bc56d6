"""`make run`: links in emails and QR codes point at the address it serves (issue 14)."""

from __future__ import annotations

import os

from learnhub import devrun


def test_links_follow_the_port_served_unless_base_url_is_set():
    assert devrun.serving_address({"PORT": "5101"}) == ("127.0.0.1", 5101, "http://127.0.0.1:5101")
    assert devrun.serving_address({}) == ("127.0.0.1", 5000, "http://127.0.0.1:5000")
    assert devrun.serving_address({"HOST": "0.0.0.0", "PORT": "8000"})[2] == (
        "http://127.0.0.1:8000"
    )
    assert devrun.serving_address({"HOST": "192.168.1.20", "PORT": "5101"})[2] == (
        "http://192.168.1.20:5101"
    )
    assert devrun.serving_address({"PORT": "5101", "BASE_URL": "https://lh.example.org/"}) == (
        "127.0.0.1",
        5101,
        "https://lh.example.org",
    )


class _Worker:
    pid = 0

    def poll(self):
        return 0


def test_the_app_and_the_worker_are_started_with_that_base_address(monkeypatch):
    seen = {}
    monkeypatch.setenv("PORT", "5101")
    monkeypatch.setenv("BASE_URL", "")  # unset; restored afterwards
    monkeypatch.setattr(
        devrun, "create_app", lambda: seen.setdefault("app", os.environ["BASE_URL"])
    )
    monkeypatch.setattr(
        devrun.subprocess,
        "Popen",
        lambda *a, **k: seen.setdefault("worker", os.environ["BASE_URL"]) and _Worker(),
    )
    monkeypatch.setattr(devrun, "run_simple", lambda host, port, *a, **k: seen.update(port=port))
    monkeypatch.setattr(devrun.signal, "signal", lambda *a: None)
    assert devrun.main() == 0
    assert seen == {"app": "http://127.0.0.1:5101", "worker": "http://127.0.0.1:5101", "port": 5101}
