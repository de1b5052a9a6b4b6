"""The README and the docs/ site: short README, every page in the nav, links that resolve, a strict mkdocs build."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from reportgen.config import load_config
from reportgen.render.metrics_page import PAGE, REGENERATE, metrics_page

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _nav_pages(nav: list) -> list[str]:
    pages = []
    for entry in nav:
        for value in (entry.values() if isinstance(entry, dict) else [entry]):
            pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_metric_reference_is_current() -> None:
    committed = (ROOT / PAGE).read_text(encoding="utf-8")
    assert committed == metrics_page(), f"docs/metrics.md is out of date; regenerate with: {REGENERATE}"


def test_readme_is_short_and_opens_with_the_set_up_commands() -> None:
    lines = README.splitlines()
    assert len(lines) < 200
    top = "\n".join(lines[:40])
    assert "pip install . && reportgen build examples/adult-income/config.toml" in top  # a user's install
    assert "pip install -e '.[dev]' && reportgen build examples/adult-income/config.toml" in top  # a contributor's
    assert "\npython -m pytest " in top


def test_every_relative_link_of_the_readme_exists() -> None:
    targets = [t for t in LINK.findall(README) if not re.match(r"[a-z]+:|#", t)]
    assert len(targets) > 10
    missing = [t for t in targets if not (ROOT / t.split("#")[0]).exists()]
    assert not missing, f"README.md links to missing files: {missing}"


def test_the_contents_of_the_readme_and_of_the_home_page_link_every_docs_page() -> None:
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    in_readme = {t.split("#")[0].removeprefix("docs/") for t in LINK.findall(README) if t.startswith("docs/")}
    home = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    in_home = {t.split("#")[0] for t in LINK.findall(home)} | {"index.md"}
    assert not pages - in_readme, f"README.md's contents does not link: {sorted(pages - in_readme)}"
    assert not pages - in_home, f"docs/index.md's contents does not link: {sorted(pages - in_home)}"


def test_every_docs_page_is_in_the_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = _nav_pages(config["nav"])
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    assert sorted(nav) == pages


def test_the_readme_configs_are_valid(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL)
    assert len(blocks) == 2  # the minimal config, and the spark engine's
    configs = []
    for index, block in enumerate(blocks):
        (tmp_path / f"config{index}.toml").write_text(block, encoding="utf-8")
        configs.append(load_config(tmp_path / f"config{index}.toml")[0])
    assert configs[0].data.label == "defaulted" and configs[0].fairness is not None
    assert configs[1].report.engine == "spark" and configs[1].data.spark_table == "sales.scored_orders"


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    # strict: a broken link, a missing anchor or a page outside the nav fails (mkdocs.yml's `validation`);
    # not verbose, which in mkdocs 1.6 turns anchor validation off
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "metrics" / "index.html").is_file()
