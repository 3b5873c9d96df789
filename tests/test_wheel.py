"""The wheel users install: ``maturin build --release`` makes one abi3
wheel; it installs into a fresh venv beside nothing but Polars (the newest
2.x, and the oldest 1.x the package declares), with no Rust toolchain on the
PATH, and passes a smoke test (scan, write, search, a typed error) against
real servers."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMOKE = Path(__file__).with_name("wheel_smoke.py")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("wheels")
    maturin = Path(sys.executable).with_name("maturin")
    subprocess.run(
        [str(maturin), "build", "--release", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("polars_redis-*.whl")
    yield built


def test_the_wheel_is_abi3(wheel: Path) -> None:
    assert "-cp39-abi3-" in wheel.name, wheel.name


@pytest.mark.parametrize("polars", ["polars>=2.1,<3", "polars==1.35.*"])
def test_the_wheel_works_without_rust(
    wheel: Path, polars: str, tmp_path: Path, redis_url: str, stack_url: str
) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel), polars],
        check=True,
        capture_output=True,
    )
    no_rust = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not Path(p, "cargo").exists()
    )
    result = subprocess.run(
        [str(python), str(SMOKE), redis_url, stack_url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": no_rust, "HOME": str(tmp_path)},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wheel smoke test passed" in result.stdout
