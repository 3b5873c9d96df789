"""The docs site (mkdocs.yml + docs/): every page is reachable, every public
name has a reference entry, and the cookbook's recipes run against a real
Redis Stack, on sample data written with redis-py, and give the right answer.

``mkdocs build --strict`` itself (broken links, docstrings that do not
render) is a step of ``scripts/test.sh``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polars_redis

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _nav_pages() -> set[str]:
    return set(re.findall(r":\s*([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M))


def test_every_page_is_in_the_nav() -> None:
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    nav = _nav_pages()
    assert nav <= pages, f"nav names missing pages: {sorted(nav - pages)}"
    assert pages <= nav, f"pages no nav entry reaches: {sorted(pages - nav)}"


def test_every_public_name_has_a_reference_entry() -> None:
    reference = "\n".join(p.read_text() for p in (DOCS / "reference").glob("*.md"))
    documented = set(re.findall(r"^::: polars_redis\.(\w+)", reference, re.M))
    exceptions = {name for name in polars_redis.__all__ if name.endswith("Error")}
    public = set(polars_redis.__all__) - {"__version__"} - exceptions
    assert "exceptions" in documented  # the whole error hierarchy is one entry
    assert public <= documented, f"undocumented: {sorted(public - documented)}"


def _recipes(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)


def _load_cookbook_data(client: Any) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(40):
        pipe.hset(
            f"features:user:{i}",
            mapping={"sessions_7d": i % 4, "spend_30d": 10.5 * i, "last_seen": 1_700_000_000_000},
        )
        status = ["open", "paid", "shipped", "cancelled"][i % 4]
        pipe.hset(
            f"order:{i}",
            mapping={
                "shop": f"shop{i % 3}",
                "status": status,
                "amount": f"{i}.50",
                "updated": "2024-01-01T00:00:00Z",
            },
        )
        pipe.xadd(f"events:shop{i % 3}", {"type": "paid", "amount": str(i)})
        pipe.json().set(
            f"cart:{i}",
            "$",
            {"user": f"u{i}", "items": [{"sku": f"s{i % 5}", "qty": 1 + i % 2, "price": 2.0}]},
        )
        pipe.hset(
            f"customer:{i}", mapping={"id": i, "country": "nl" if i % 2 else "de", "segment": "smb"}
        )
        pipe.json().set(
            f"order:json:{i}",
            "$",
            {"customer_id": i, "total": float(i), "created": "2024-01-02T00:00:00Z"},
        )
    pipe.execute()


def test_cookbook_recipes_run(stack_url: str, stack_client: Any) -> None:
    _load_cookbook_data(stack_client)
    namespace: dict[str, Any] = {}
    for code in _recipes("cookbook.md"):
        code = re.sub(r'^url = ".*"$', f'url = "{stack_url}"', code, flags=re.M)
        if "url" not in namespace and "url =" not in code:
            namespace["url"] = stack_url
        exec(compile(code, "cookbook.md", "exec"), namespace)

    scored = namespace["scored"]
    assert scored.height == 30  # sessions_7d > 0 for 3 of every 4 users
    assert stack_client.hexists("features:user:1", "churn_score")
    assert not stack_client.hexists("features:user:0", "churn_score")
    assert stack_client.hget("features:user:1", "sessions_7d") == b"1"  # append kept it

    open_by_shop = namespace["open_by_shop"]
    assert open_by_shop["open_orders"].sum() == 10
    assert namespace["last_hour"].height == 40

    ranking = stack_client.zrange("stats:top_skus", 0, -1, withscores=True)
    assert len(ranking) == 5 and 0 < stack_client.ttl("stats:top_skus") <= 3600

    revenue = namespace["revenue"]
    assert revenue["orders"].sum() == 40
    assert revenue.filter(pl.col("country") == "nl")["revenue"].item() == float(
        sum(range(1, 40, 2))
    )


@pytest.mark.parametrize("page", ["index.md", "quickstart.md"])
def test_intro_examples_compile(page: str) -> None:
    for code in _recipes(page):
        compile(code, page, "exec")
