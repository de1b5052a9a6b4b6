"""The GitHub Actions recipe: its shape, and its shell steps run here on the bundled example.

The steps that only GitHub provides (checkout, artifacts, `gh pr comment`) are not run; every step
that calls reportgen or git is, against a local bare repository standing in for GitHub.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "model-report.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def _step(workflow: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    return next(step for step in workflow["jobs"][job]["steps"] if step.get("name") == name)


def _run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # GitHub runs `run:` with `bash -e {0}`
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=os.environ | env, capture_output=True,
                          text=True, check=False)


def test_runs_on_pull_requests_and_publishes_from_main(workflow: dict[str, Any]) -> None:
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"pull_request", "push"} and triggers["push"]["branches"] == ["main"]
    report, publish = workflow["jobs"]["report"], workflow["jobs"]["publish"]
    assert report["permissions"]["pull-requests"] == "write"
    assert publish["needs"] == "report" and "refs/heads/main" in publish["if"]
    assert publish["permissions"] == {"contents": "write"}
    uses = [step.get("uses", "") for step in report["steps"]]
    assert "actions/upload-artifact@v4" in uses
    comment = _step(workflow, "report", "Comment on the pull request")
    assert "--body-file" in comment["run"] and "pull_request" in comment["if"]


@pytest.fixture(scope="module")
def built(workflow: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The report job's shell steps, run on the example config (which has a failing gate)."""
    work = tmp_path_factory.mktemp("runner")
    env = {
        "REPORT_CONFIG": str(ROOT / "examples" / "adult-income" / "config.toml"),
        "REPORT_DIR": "model-report",
        "GITHUB_OUTPUT": str(work / "output"),
        "GITHUB_STEP_SUMMARY": str(work / "step-summary"),
        "GITHUB_SHA": "0123456789abcdef",
    }
    for name in ("Build the report", "Job summary"):
        result = _run(_step(workflow, "report", name)["run"], work, env)
        assert result.returncode == 0, result.stderr
    return work, env


def test_build_step_records_a_failed_gate_and_writes_the_job_summary(built: tuple[Path, dict[str, str]]) -> None:
    work, _ = built
    assert (work / "output").read_text() == "gates_failed=true\n"
    assert sorted(p.name for p in (work / "model-report").iterdir()) == [
        "report.html", "report.json", "report.pdf", "reportgen-set.json", "summary.md"]
    assert (work / "step-summary").read_text() == (work / "model-report" / "summary.md").read_text()


def test_gate_step_fails_the_job(workflow: dict[str, Any], built: tuple[Path, dict[str, str]]) -> None:
    work, env = built
    step = _step(workflow, "report", "Fail on quality gates")
    assert step["if"] == "steps.build.outputs.gates_failed == 'true'"
    result = _run(step["run"], work, env)
    assert result.returncode == 1
    assert "FAIL  Equalized odds difference" in result.stderr


def test_build_step_stops_on_a_config_error(workflow: dict[str, Any], tmp_path: Path) -> None:
    env = {"REPORT_CONFIG": str(tmp_path / "missing.toml"), "REPORT_DIR": "out",
           "GITHUB_OUTPUT": str(tmp_path / "output")}
    result = _run(_step(workflow, "report", "Build the report")["run"], tmp_path, env)
    assert result.returncode == 2
    assert "no such config file" in result.stderr
    assert not (tmp_path / "output").exists()


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_publish_steps_start_then_extend_the_gh_pages_site(
    workflow: dict[str, Any], built: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """First run creates the gh-pages branch; a second run adds to it, keeping the first report."""
    _, env = built
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "--quiet", "--bare", str(origin))
    checkout = tmp_path / "checkout"
    _git(tmp_path, "init", "--quiet", "-b", "main", str(checkout))
    for key, value in (("user.name", "ci"), ("user.email", "ci@example.com")):
        _git(checkout, "config", key, value)
    (checkout / "README").write_text("code\n")
    _git(checkout, "add", "README")
    _git(checkout, "commit", "--quiet", "-m", "code")
    _git(checkout, "remote", "add", "origin", str(origin))
    _git(checkout, "push", "--quiet", "origin", "main")

    site_step = _step(workflow, "publish", "Add the report to the site")["run"]
    push_step = _step(workflow, "publish", "Push the site to gh-pages")
    built_report = built[0] / "model-report"
    for version in ("1.0.0", "1.1.0"):
        shutil.rmtree(checkout / "site", ignore_errors=True)
        _git(checkout, "worktree", "prune")
        report = checkout / "model-report"
        shutil.rmtree(report, ignore_errors=True)
        shutil.copytree(built_report, report)
        document = report / "report.json"
        document.write_text(document.read_text().replace('"version": "1.0.0"', f'"version": "{version}"', 1))
        (report / "reportgen-set.json").unlink()  # a hand-edited report is no build's set
        result = _run(site_step, checkout, env)
        assert result.returncode == 0, result.stderr
        result = _run(push_step["run"], checkout / push_step["working-directory"], env)
        assert result.returncode == 0, result.stderr

    files = _git(origin, "ls-tree", "-r", "--name-only", "gh-pages").split()
    assert {"index.html", ".nojekyll", "reportgen-site.json"} <= set(files)
    assert "README" not in files  # the site branch holds the site only
    pages = [name for name in files if name.endswith("/report.html")]
    assert len(pages) == 2
    index = _git(origin, "show", "gh-pages:index.html")
    assert "1.0.0" in index and "1.1.0" in index
    assert _git(origin, "log", "--format=%s", "gh-pages").splitlines() == ["Model report for 0123456"] * 2
