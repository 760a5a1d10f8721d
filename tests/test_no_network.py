"""Nothing goes over the network (SEC-1, SEC-14, T-SEC-01, T-SEC-14, T-STR-11).

* The whole suite runs under ``pytest --disable-socket`` (pyproject ``addopts``).
* A full CLI pipeline runs in a subprocess whose ``socket`` functions record and refuse
  every attempt (a ``sitecustomize`` on PYTHONPATH): it succeeds with zero attempts.
* No telemetry package is installed, or imported by any cscmining module.
* The package source never imports a networking module or pm4py's fetching, LLM or
  connector code (an import lint over ``cscmining/**/*.py``).
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import cscmining
import cscmining.cli as cli_module

PACKAGE = Path(cscmining.__file__).parent

SITECUSTOMIZE = textwrap.dedent("""
    # Loaded at interpreter start (PYTHONPATH): record and refuse any network use.
    import os
    import socket

    _LOG = os.environ["CSCMINING_TEST_NET_LOG"]


    def _refuse(name):
        def refuse(*args, **kwargs):
            with open(_LOG, "a", encoding="utf-8") as fh:
                fh.write(name + "\\n")
            raise OSError("network use refused by the no-network test")
        return refuse


    for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
        setattr(socket.socket, _name, _refuse("socket." + _name))
    for _name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
                  "gethostbyaddr", "getnameinfo"):
        setattr(socket, _name, _refuse(_name))
    with open(os.environ["CSCMINING_TEST_NET_LOADED"], "w", encoding="utf-8") as fh:
        fh.write("loaded")
""")

DRIVER = textwrap.dedent("""
    # Import every cscmining module, then run the main job command by command.
    import importlib, json, pkgutil, sys
    from pathlib import Path

    import cscmining
    from cscmining.cli import main

    for info in pkgutil.walk_packages(cscmining.__path__, "cscmining."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)

    work, fixtures = Path(sys.argv[1]), Path(sys.argv[2])
    samples, log = work / "samples", work / "log.parquet"
    steps = [
        ["samples", "-o", samples, "--children", "5"],
        ["ingest", samples / "cin_census_2025.xml", samples / "ssda903_2025",
         samples / "annex_a_2025.xlsx", fixtures / "cin_more.xml", fixtures / "annex_a_csv",
         "-o", log, "--json"],
        ["map", log, "-o", work / "map.svg"],
        ["map", log, "--level", "summary", "--json"],
        ["variants", log, "--json"],
        ["stuck", log, "--json", "--csv", work / "stuck.csv"],
        ["timescales", log, "--json"],
        ["bottlenecks", log, "--json"],
        ["demo", "--samples", fixtures, "-o", work / "demo"],
        ["ingest", "https://example.org/annex_a.xlsx", "-o", work / "url.parquet"],
    ]
    codes = []
    for args in steps:
        try:
            main(["-q", *map(str, args)])
            codes.append(0)
        except SystemExit as exc:
            codes.append(exc.code)
    (work / "result.json").write_text(json.dumps({"codes": codes, "modules": sorted(sys.modules)}))
""")

#: packages that phone home (analytics, error reporting, product telemetry)
TELEMETRY = ("great_expectations", "posthog", "sentry_sdk", "raven", "segment", "analytics",
             "mixpanel", "amplitude", "rudderstack", "rudder_analytics", "bugsnag", "rollbar",
             "datadog", "ddtrace", "newrelic", "opentelemetry", "scarf", "logfire", "wandb",
             "honeybadger", "applicationinsights", "statsd")


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> dict:
    """The main job run in a subprocess with every socket function refused and recorded."""
    work = tmp_path_factory.mktemp("no_network")
    site = work / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    (work / "driver.py").write_text(DRIVER)
    net_log, loaded = work / "network_attempts.txt", work / "sitecustomize_loaded"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "CSCMINING_TEST_NET_LOG": str(net_log), "CSCMINING_TEST_NET_LOADED": str(loaded),
           "NO_COLOR": "1"}
    fixtures = Path(__file__).parent / "fixtures"
    done = subprocess.run([sys.executable, str(work / "driver.py"), str(work), str(fixtures)],
                          capture_output=True, text=True, env=env, cwd=work, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads((work / "result.json").read_text())
    return {**result, "work": work, "loaded": loaded.exists(), "stderr": done.stderr,
            "attempts": net_log.read_text().split() if net_log.exists() else []}


def test_t_sec_01_the_main_job_runs_with_the_network_refused(pipeline: dict) -> None:
    assert pipeline["loaded"], "the socket patch was not active: the test would prove nothing"
    assert pipeline["codes"] == [0] * 9 + [2], pipeline["stderr"]
    assert pipeline["attempts"] == []
    work = pipeline["work"]
    assert (work / "map.svg").read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    assert len(list((work / "demo").iterdir())) >= 10
    assert "only local files and folders can be read (no URLs)" in pipeline["stderr"]


def test_no_telemetry_package_is_installed_or_imported(pipeline: dict) -> None:
    imported = {m.split(".")[0] for m in pipeline["modules"]}
    assert not imported & set(TELEMETRY)
    assert not {m for m in imported if m in ("requests", "urllib3", "httpx", "aiohttp")}
    installed = {(d.metadata["Name"] or "").lower().replace("-", "_") for d in importlib.metadata.distributions()}
    assert not installed & {t.lower() for t in TELEMETRY}
    assert [name for name in TELEMETRY if importlib.util.find_spec(name) is not None] == []
    # every cscmining module was imported (the list above covers the whole package)
    sources = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
               for p in PACKAGE.rglob("*.py") if p.stem != "__main__"}
    sources = {s.removesuffix(".__init__") for s in sources}
    assert sources <= set(pipeline["modules"])


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_pytest_blocks_sockets() -> None:
    """``--disable-socket`` is on for the whole suite (pyproject addopts)."""
    from pytest_socket import SocketBlockedError

    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


# --- T-STR-11: a URL given as input is refused before any network use --------------------


@pytest.fixture
def attempts(monkeypatch) -> list[str]:
    seen: list[str] = []

    def refuse(name):
        def call(*_a, **_k):
            seen.append(name)
            raise OSError("no network in tests")
        return call

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse(name))
    return seen


@pytest.mark.parametrize("command", [["ingest", "-o", "x.parquet"], ["map", "--json"], ["variants"],
                                     ["stuck"], ["timescales"], ["bottlenecks"]])
@pytest.mark.parametrize("url", ["https://example.org/cin.xml", "http://10.0.0.1/903.csv",
                                 "ftp://host/l3.csv", "\\\\fileserver\\share\\cin.xml"])
def test_t_str_11_url_inputs_are_refused_without_a_connection(tmp_path, attempts, command, url) -> None:
    runner = CliRunner()
    with runner.isolation() as (_out, err, _):
        with pytest.raises(SystemExit) as exit_:
            cli_module.main([command[0], url, *command[1:]])
        assert exit_.value.code == 2
        assert "only local files and folders can be read" in err.getvalue().decode()
    assert attempts == []


# --- T-SEC-14: the import lint ------------------------------------------------------------

#: modules the package must never import (network clients, pm4py's fetching/LLM/connector code)
FORBIDDEN_MODULES = ("requests", "urllib.request", "urllib3", "http.client", "httpx", "aiohttp",
                     "ftplib", "smtplib", "socket", "socketserver", "xmlrpc", "webbrowser",
                     "pm4py.llm", "pm4py.algo.querying", "pm4py.algo.connectors", "pm4py.connectors",
                     "pm4py.read", "pm4py.objects.log.importer", "pm4py.vis", "pm4py.visualization",
                     *TELEMETRY)
#: pm4py functions that fetch, call an LLM or open a viewer
FORBIDDEN_PM4PY = ("read_", "llm", "connectors", "view_", "save_vis_")


def _forbidden(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES)


def import_problems(source: str, where: str) -> list[str]:
    """Forbidden imports and pm4py attribute uses in one module's source."""
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.Import):
            found += [f"{where}:{node.lineno} import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _forbidden(node.module):
                found.append(f"{where}:{node.lineno} from {node.module}")
            elif node.module == "pm4py" or node.module.startswith("pm4py."):
                found += [f"{where}:{node.lineno} from {node.module} import {a.name}" for a in node.names
                          if a.name.startswith(FORBIDDEN_PM4PY) or _forbidden(f"{node.module}.{a.name}")]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "pm4py":
            if node.attr.startswith(FORBIDDEN_PM4PY):
                found.append(f"{where}:{node.lineno} pm4py.{node.attr}")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and _forbidden(str(node.args[0].value)):
                found.append(f"{where}:{node.lineno} {name}({node.args[0].value!r})")
    return found


def test_t_sec_14_the_package_imports_nothing_that_fetches_or_phones_home() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    problems = [p for f in files for p in import_problems(f.read_text(), str(f.relative_to(PACKAGE)))]
    assert problems == []


@pytest.mark.parametrize(
    "source",
    ["import requests", "import urllib.request as u", "from http.client import HTTPConnection",
     "from pm4py.llm import abstract_dfg", "import pm4py.algo.querying.llm",
     "from pm4py.algo.connectors import x", "import pm4py\npm4py.read_xes('x')",
     "from pm4py import read_xes", "import pm4py\npm4py.llm.openai_query('x')",
     "import importlib\nimportlib.import_module('requests')", "import posthog", "import sentry_sdk",
     "from great_expectations import x", "import socket"],
)
def test_the_import_lint_catches(source: str) -> None:
    assert import_problems(source, "planted.py")


@pytest.mark.parametrize("source", ["import pm4py", "from pm4py.statistics.start_activities.pandas import get",
                                    "from urllib.parse import quote", "import http", "import socketish"])
def test_the_import_lint_allows(source: str) -> None:
    assert import_problems(source, "fine.py") == []
