"""Smoke test of an installed wheel, run by ``test_wheel.py`` with the
Python of a fresh venv that has only the wheel and Polars (no Rust toolchain,
no source tree on the path).

    python wheel_smoke.py PLAIN_URL STACK_URL

Exits non-zero (an AssertionError) when anything is off.
"""

from __future__ import annotations

import sys

import polars as pl

import polars_redis as redis


def main(url: str, stack_url: str) -> None:
    assert "site-packages" in redis.__file__, redis.__file__
    users = pl.DataFrame(
        {"_key": [f"smoke:user:{i}" for i in range(100)], "age": list(range(100))}
    ).with_columns(
        city=pl.when(pl.col("age") % 2 == 0).then(pl.lit("ams")).otherwise(pl.lit("ber"))
    )
    result = redis.write_hashes(users, url, ttl=600)
    assert result.written == 100, result

    schema = {"age": pl.Int64, "city": pl.String}
    lf = redis.scan_hashes(url, "smoke:user:*", schema)
    assert redis.read_hashes(url, "smoke:user:*", schema).height == 100
    adults = lf.filter(pl.col("age") >= 90).select("_key", "age").collect()
    assert sorted(adults["age"].to_list()) == list(range(90, 100)), adults
    assert lf.head(7).collect().height == 7
    assert (
        sum(b.height for b in redis.iter_hashes(url, "smoke:user:*", schema, batch_size=30)) == 100
    )

    redis.write_lists(pl.DataFrame({"_key": ["smoke:list"], "element": ["x"]}), url)
    try:
        redis.read_hashes(url, keys=["smoke:list"], schema=schema)
    except redis.WrongTypeError as exc:
        assert "smoke:list" in str(exc)
    else:
        raise AssertionError("a list read as a hash did not raise WrongTypeError")

    redis.write_hashes(users, stack_url)
    redis.create_index(stack_url, "smoke", "smoke:user:", schema, types={"city": "TAG"})
    found = redis.search_hashes(stack_url, "smoke", redis.field("age") >= 95, schema=schema)
    assert sorted(found.collect()["age"].to_list()) == [95, 96, 97, 98, 99]
    pushed = redis.explain_pushdown(
        redis.scan_hashes(stack_url, "smoke:user:*", schema).filter(pl.col("age") < 3)
    )
    assert "FT.AGGREGATE" in pushed, pushed
    redis.drop_index(stack_url, "smoke")
    python = ".".join(map(str, sys.version_info[:3]))
    print(f"wheel smoke test passed with polars {pl.__version__} on Python {python}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
