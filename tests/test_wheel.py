"""The wheel users install: one abi3 manylinux wheel, built as it would be
published (``maturin build --release --zig --compatibility manylinux2014``,
glibc 2.17+); it installs into a fresh venv beside nothing but Polars (the
newest 2.x, and the oldest 1.x the package declares), with no Rust toolchain
on the PATH, and passes a smoke test (scan, write, search, a typed error)
against real servers: on this machine's Python, and at both ends of the
declared range, CPython 3.9 (Debian bullseye, glibc 2.31) and 3.13 (Debian
trixie), each in a minimal Debian chroot made by ``scripts/python-ends.sh``."""

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
ENDS = ROOT / "scripts" / "python-ends.sh"


# The chroots for both ends of the Python range, and the Polars each gets: Polars 2.x needs
# Python 3.10+ (2.1+: 3.11+), so 3.9 gets the declared 1.x floor.
ENDS_POLARS = {"bullseye": "polars==1.35.*", "trixie": "polars>=2.1,<3"}


@pytest.fixture(scope="module", autouse=True)
def chroots() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Makes the chroots and downloads Polars into them (network-bound, cached in
    ``.pyends/``) in the background while the wheel builds."""
    started = {
        suite: subprocess.Popen(
            ["bash", str(ENDS), "prepare", suite, polars],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for suite, polars in ENDS_POLARS.items()
    }
    yield started
    for process in started.values():
        process.wait(timeout=900)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("wheels")
    tools = Path(sys.executable).parent  # maturin, and python-zig from ziglang
    build = [str(tools / "maturin"), "build", "--release", "--out", str(out)]
    manylinux = ["--zig", "--compatibility", "manylinux2014"]
    path = f"{tools}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(
        build + manylinux,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("polars_redis-*.whl")
    yield built


def test_the_wheel_is_abi3_manylinux2014(wheel: Path) -> None:
    assert "-cp39-abi3-" in wheel.name, wheel.name
    assert "manylinux_2_17_x86_64" in wheel.name.split("-")[-1], wheel.name


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


@pytest.mark.parametrize(
    ("suite", "python", "polars_version"),
    [("bullseye", "3.9", "1.35."), ("trixie", "3.13", "2.")],
)
def test_the_wheel_works_at_both_ends_of_the_python_range(
    wheel: Path,
    chroots: dict[str, subprocess.Popen[str]],
    suite: str,
    python: str,
    polars_version: str,
    redis_url: str,
    stack_url: str,
) -> None:
    prepared, _ = chroots[suite].communicate(timeout=900)
    assert chroots[suite].returncode == 0, prepared
    run = [str(ENDS), "run", suite, ENDS_POLARS[suite], str(wheel), redis_url, stack_url]
    result = subprocess.run(["bash", *run], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"wheel smoke test passed with polars {polars_version}" in result.stdout, result.stdout
    assert f" on Python {python}." in result.stdout, result.stdout
