"""The wheel works from an empty folder, as a new user installs it: build it, install it into a
fresh venv, and from an empty temporary directory run ``ssvae data info`` and start the page
with its CSS and scripts.

Nothing is downloaded: the wheel is built without build isolation (setuptools from the test
extra), installed with ``--no-deps --no-index``, and the fresh venv reaches the dependencies
through a ``.pth`` file naming this environment's site-packages (behind its own, so its
``ssvae`` is the wheel's). The page starts with ``--no-training`` to keep the test quick.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "ssvae", "dashboard")
SHIPPED = ("ssvae/configs/default.yaml", "ssvae/configs/quick.yaml",
           "ssvae/data/bundled/mnist_5k.npz", "ssvae/data/bundled/README.md",
           "dashboard/assets/dashboard.css", "dashboard/assets/keyboard.js",
           "dashboard/assets/clientside.js", "dashboard/assets/00-bootstrap-5.3.6.min.css")
MIN_SETUPTOOLS = 77  # the SPDX licence string of pyproject.toml


def setuptools_major() -> int:
    try:
        return int(version("setuptools").split(".")[0])
    except Exception:  # not installed, or an odd version string
        return 0


def run(cmd, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    assert done.returncode == 0, f"{cmd[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done


def clean_env() -> dict:
    """No PYTHONPATH (it would import the checkout) and no workspace settings."""
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONPATH" and not k.startswith("SSVAE_")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(fresh venv, wheel, build log): the wheel built from a copy of the sources, installed."""
    if setuptools_major() < MIN_SETUPTOOLS:
        message = (f"building the wheel offline needs setuptools>={MIN_SETUPTOOLS} here (the "
                   f"test extra): pip install 'setuptools>={MIN_SETUPTOOLS}'")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("packaging")
    src = tmp / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    build = run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                 "--no-index", "-w", tmp / "dist", src], env=clean_env())
    (wheel,) = (tmp / "dist").glob("ssvae_labeling-*.whl")

    env_dir = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", env_dir])
    python = env_dir / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                       env=clean_env()).stdout.strip())
    deps = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    (purelib / "_outer_site_packages.pth").write_text("".join(f"{p}\n" for p in deps))
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         wheel], env=clean_env())
    return env_dir, wheel, build.stdout + build.stderr


def test_the_wheel_holds_configs_assets_and_the_bundled_mnist(installed):
    _, wheel, log = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(SHIPPED) <= names
    assert not {n for n in names if n.split("/")[0] in ("tests", "data", "configs", "assets",
                                                         "artifacts", "benchmarks", "scripts")}
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "SetuptoolsDeprecationWarning" not in log, "setuptools warns of a deprecation"
    assert "License-Expression: MIT" in metadata


def test_data_info_from_an_empty_folder(installed, tmp_path):
    env_dir, _, _ = installed
    bin_dir = env_dir / "bin"
    where = run([bin_dir / "python", "-c", "import ssvae, dashboard; print(ssvae.__file__); "
                 "print(dashboard.__file__)"], cwd=tmp_path, env=clean_env()).stdout.split()
    assert all(Path(p).is_relative_to(env_dir) for p in where), where  # the wheel, not the checkout
    out = run([bin_dir / "ssvae", "--version"], cwd=tmp_path, env=clean_env()).stdout
    with open(ROOT / "pyproject.toml", "rb") as fh:
        assert out.strip() == f"ssvae {tomllib.load(fh)['project']['version']}"
    out = run([bin_dir / "ssvae", "data", "info"], cwd=tmp_path, env=clean_env()).stdout
    assert "4000 to label" in out and "test split   1000" in out
    assert f"{tmp_path.resolve() / 'data' / 'mnist' / 'labels.csv'}" in out
    assert list(tmp_path.iterdir()) == []  # reading writes nothing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read()


def wait_for_page(url: str, proc: subprocess.Popen, timeout: float = 120) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"ssvae dashboard exited with {proc.returncode}:\n{out}\n{err}")
        try:
            status, body = get(url)
            if status == 200:
                return body
        except OSError:
            pass
        time.sleep(0.1)  # poll: the condition is the page answering
    pytest.fail(f"{url} did not answer within {timeout:.0f} s")


def test_the_page_starts_with_its_css_and_scripts(installed, tmp_path):
    env_dir, _, _ = installed
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([env_dir / "bin" / "ssvae", "dashboard", "--no-browser",
                             "--no-training", "--port", str(port)], cwd=tmp_path, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        html = wait_for_page(base + "/", proc).decode()
        assets = re.findall(r'(?:href|src)="(/assets/[^"?]+)', html)
        names = {a.rsplit("/", 1)[1] for a in assets}
        assert {"dashboard.css", "keyboard.js", "clientside.js", "00-bootstrap-5.3.6.min.css"} <= names
        for path in assets:
            status, body = get(base + path)
            assert status == 200 and body, path
        assert get(base + "/_dash-layout")[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # the page's files went to the workspace (the empty folder), none into the installation
    assert (tmp_path / "artifacts" / "workspace" / "mnist").is_dir()
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    assert not {p.name for p in site.iterdir()} & {"artifacts", "data", "configs", "assets"}
