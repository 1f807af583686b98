"""The benchmark still runs (a smoke run: its figures are read by people, not asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_fanout_benchmark_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fanout.py"), "--lookups", "2", "--sizes", "3"],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "heavy citizen:" in done.stdout


@pytest.mark.slow
def test_zgw_benchmark_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "zgw.py"), "--zaken", "5", "--lookups", "1",
         "--latency-ms", "5", "--sequential"],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "case page" in done.stdout and "overview, one by one" in done.stdout


@pytest.mark.slow
def test_shared_state_benchmark_runs(tmp_path):
    from support.services import require_redis

    require_redis("redis://127.0.0.1:6379/7")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "shared_state.py"), "--keys", "4",
         "--requests", "50", "--latency-ms", "1"],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the source was asked 1 time(s)" in done.stdout


@pytest.mark.slow
def test_first_answer_benchmark_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "first_answer.py"), "--lookups", "2", "--sizes", "3"],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "first/whole" in done.stdout


def _run(script: str, *args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
    )  # fmt: skip


@pytest.mark.slow
def test_throughput_benchmark_runs(tmp_path):
    import shutil

    if shutil.which("wrk", path="/usr/bin:/bin:/usr/local/bin") is None:
        done = _run("throughput.py", "--seconds", "1", tmp_path=tmp_path)
        assert done.returncode != 0 and "apt-get install -y wrk" in done.stderr
        pytest.skip("wrk is not installed: the benchmark says how to install it")
    done = _run("throughput.py", "--seconds", "1", "--warm-up", "1", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ratio overview : bare Flask" in done.stdout


@pytest.mark.slow
def test_scale_benchmark_runs(tmp_path):
    from support.services import REDIS_URL, require_postgres, require_redis

    require_postgres()
    require_redis(REDIS_URL)
    done = _run("scale.py", "--keys", "2", "--workers", "1", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "expired overviews on the other instance   0 of 4" in done.stdout
    assert "audit verify (one chain, both instances)  exit 0: OK" in done.stdout


@pytest.mark.slow
def test_soak_benchmark_runs(tmp_path):
    done = _run(
        "soak.py", "--minutes", "0.2", "--probe-seconds", "2", "--sample-seconds", "1",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "growth after warm-up" in done.stdout and "errors: 0" in done.stdout


@pytest.mark.slow
def test_index_benchmark_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "index.py"), "--subscribers", "3"],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "second (steady)" in done.stdout and "change detection alone" in done.stdout


@pytest.mark.slow
def test_narrow_benchmark_runs(tmp_path):
    done = _run("narrow.py", "--cases", "300", "--pages", "2", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "overview, first page" in done.stdout and "50 ms target" in done.stdout
