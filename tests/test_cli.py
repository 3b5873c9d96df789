"""The ``polars-redis`` command line, end to end: each command run as a
subprocess (the installed console script) against real servers, its output
checked against ground truth written with redis-py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import redis as redispy
from redis_servers import RedisServer

PASSWORD = "cli-s3cret-pw"


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("polars-redis")
    return [str(script)] if script.exists() else [sys.executable, "-m", "polars_redis.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    full_env.update(env or {})
    return subprocess.run(
        [*_cli(), *args], capture_output=True, text=True, env=full_env, timeout=300
    )


def _load_users(client: Any, n: int = 30) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.hset(
            f"user:{i}", mapping={"name": f"u{i}", "age": 20 + i, "city": ["ams", "ber"][i % 2]}
        )
    pipe.set("user:not-a-hash", "x")
    pipe.execute()


def test_the_console_script_is_installed() -> None:
    assert shutil.which("polars-redis", path=str(Path(sys.executable).parent))


@pytest.mark.parametrize("command", ["", "stats", "infer", "export", "import", "sql", "demo"])
def test_every_command_has_help(command: str) -> None:
    result = run(*([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: polars-redis" in result.stdout


def test_infer_prints_each_field(redis_url: str, redis_client: Any) -> None:
    _load_users(redis_client)
    result = run("infer", redis_url, "user:*")
    assert result.returncode == 0, result.stderr
    assert "30 keys sampled" in result.stdout
    for field, dtype in (("age", "Int64"), ("name", "String"), ("city", "String")):
        line = next(line for line in result.stdout.splitlines() if f" {field} " in line)
        assert dtype in line


@pytest.mark.parametrize("extension", ["parquet", "csv", "ndjson", "arrow"])
def test_export_writes_every_key(
    redis_url: str, redis_client: Any, tmp_path: Path, extension: str
) -> None:
    _load_users(redis_client)
    out = tmp_path / f"users.{extension}"
    result = run(
        "export", redis_url, "user:*", str(out), "--schema", "name:String,age:Int64,city:String"
    )
    assert result.returncode == 0, result.stderr
    assert "read 30 rows" in result.stdout
    read = {"parquet": pl.read_parquet, "csv": pl.read_csv, "ndjson": pl.read_ndjson}
    df = read.get(extension, pl.read_ipc)(out).sort("age")
    assert df["_key"].to_list() == [f"user:{i}" for i in range(30)]
    assert df["age"].to_list() == list(range(20, 50))


def test_export_filter_is_sql(redis_url: str, redis_client: Any, tmp_path: Path) -> None:
    _load_users(redis_client)
    out = tmp_path / "ams.parquet"
    result = run("export", redis_url, "user:*", str(out), "--filter", "age >= 40 AND city = 'ams'")
    assert result.returncode == 0, result.stderr
    df = pl.read_parquet(out)
    expected = {f"user:{i}" for i in range(30) if 20 + i >= 40 and i % 2 == 0}
    assert set(df["_key"]) == expected


def test_import_then_report(redis_url: str, redis_client: Any, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pl.DataFrame({"_key": ["p:1", "p:2", "p:3"], "price": [1.5, 2.5, 3.5]}).write_parquet(src)
    result = run("import", str(src), redis_url, "--ttl", "100")
    assert result.returncode == 0, result.stderr
    assert "3 of 3 rows written" in result.stdout
    assert redis_client.hget("p:2", b"price") == b"2.5"
    assert 0 < redis_client.ttl("p:2") <= 100


def test_import_exits_1_when_keys_fail(redis_url: str, redis_client: Any, tmp_path: Path) -> None:
    redis_client.rpush("p:2", "a list, not a hash")
    src = tmp_path / "in.csv"
    pl.DataFrame({"_key": ["p:1", "p:2"], "price": [1, 2]}).write_csv(src)
    result = run("import", str(src), redis_url, "--if-exists", "append")
    assert result.returncode == 1
    assert "1 failed" in result.stdout and "WRONGTYPE" in result.stdout
    assert redis_client.hget("p:1", b"price") == b"1"


def test_sql_over_scans(redis_url: str, redis_client: Any) -> None:
    _load_users(redis_client)
    query = "SELECT city, COUNT(*) AS n, MAX(age) AS oldest FROM users GROUP BY city ORDER BY city"
    result = run("sql", redis_url, query, "--table", "users=hashes:user:*")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "ams" in line or "ber" in line]
    assert len(rows) == 2
    assert "15" in rows[0] and "48" in rows[0]  # ams: 15 users, oldest 20 + 28
    assert "15" in rows[1] and "49" in rows[1]


def test_url_from_the_environment(redis_url: str, redis_client: Any) -> None:
    _load_users(redis_client)
    result = run("infer", "user:*", env={"REDIS_URL": redis_url})
    assert result.returncode == 0, result.stderr
    assert "30 keys sampled" in result.stdout


@pytest.fixture(scope="module")
def password_server() -> Iterator[RedisServer]:
    server = RedisServer.plain(extra_args=["--requirepass", PASSWORD])
    try:
        yield server
    finally:
        server.stop()


def test_password_file(password_server: RedisServer, tmp_path: Path) -> None:
    client = redispy.Redis.from_url(password_server.url, password=PASSWORD)
    client.flushall()
    client.hset("user:1", mapping={"age": 7})
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    result = run("--password-file", str(secret), "infer", password_server.url, "user:*")
    assert result.returncode == 0, result.stderr
    assert "1 keys sampled" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_a_wrong_password_is_never_echoed(password_server: RedisServer, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("wrong-" + PASSWORD)
    result = run("--password-file", str(secret), "infer", password_server.url, "user:*")
    assert result.returncode == 2
    assert "AuthenticationError" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "{url}", "user:*", "out.xlsx"], "unknown file type 'xlsx'"),
        (["export", "{url}", "user:*", "o.csv", "--schema", "age:Int65"], "unknown dtype"),
        (["export", "{url}", "user:*", "o.csv", "--schema", "age"], "expected name:dtype"),
        (["sql", "{url}", "SELECT 1"], "--table"),
        (["sql", "{url}", "SELECT 1", "--table", "u=hashes"], "NAME=TYPE:PATTERN"),
        (["infer", "user:*"], "REDIS_URL"),
        (["import", "in.parquet", "localhost:6379"], "is not a URL"),
    ],
)
def test_bad_input_is_a_clear_error(
    redis_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(*(a.format(url=redis_url) for a in args))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_against_a_given_server(stack_url: str, stack_client: Any) -> None:
    result = run("demo", stack_url)
    assert result.returncode == 0, result.stderr
    assert "read (scan_hashes + collect): 50,000 rows" in result.stdout
    assert "FT.AGGREGATE query" in result.stdout
    assert stack_client.hget("demo:user:7", b"level") == b"basic"
    assert 0 < stack_client.ttl("demo:user:7") <= 600


def test_schema_file(redis_url: str, redis_client: Any, tmp_path: Path) -> None:
    _load_users(redis_client)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"age": "Int16", "joined": "Datetime[ms, UTC]"}))
    out = tmp_path / "u.parquet"
    result = run("export", redis_url, "user:*", str(out), "--schema", f"@{schema}")
    assert result.returncode == 0, result.stderr
    df = pl.read_parquet(out)
    assert df.schema["age"] == pl.Int16
    assert df.schema["joined"] == pl.Datetime("ms", "UTC")


def test_stats_counts_types_prefixes_and_ttls(redis_url: str, redis_client: Any) -> None:
    _load_users(redis_client)  # 30 hashes and one string under user:
    pipe = redis_client.pipeline(transaction=False)
    for i in range(12):
        pipe.set(f"session:{i}", "x" * 100, ex=30)
    pipe.rpush("queue:jobs", *range(1000))
    pipe.execute()
    result = run("stats", redis_url, "--top", "5")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "44 keys match '*'" in out

    def row(section: str, label: str) -> str:
        part = out.split(section, 1)[1]
        return next(line for line in part.splitlines() if f" {label} " in line)

    assert " 30 " in row("By type", "hash") and " 13 " in row("By type", "string")
    assert " 31 " in row("By prefix", "user:*") and " 12 " in row("By prefix", "session:*")
    assert " 12 " in row("TTL", "< 1 min") and " 32 " in row("TTL", "no expiry")
    assert "sampled: 44 of 44 keys" in out
    biggest = out.split("Biggest keys", 1)[1].splitlines()
    assert any("queue:jobs" in line and "1000" in line for line in biggest)


def test_stats_pattern_with_url_from_the_environment(redis_url: str, redis_client: Any) -> None:
    _load_users(redis_client)
    result = run("stats", "user:*", env={"REDIS_URL": redis_url})
    assert result.returncode == 0, result.stderr
    assert "31 keys match 'user:*'" in result.stdout
