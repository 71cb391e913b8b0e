"""The server's container image: what the Dockerfile and compose.yaml say (always), and the image
built and started where a container engine answers (skipped with the reason elsewhere)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = "/var/lib/panggil"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n(?:\s*#.*\n)*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions((ROOT / "Dockerfile").read_text())
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def exec_form(args: str) -> list[str]:
    return json.loads(args)


def test_every_stage_builds_on_python_311_slim():
    stages = [
        args for word, args in instructions((ROOT / "Dockerfile").read_text()) if word == "FROM"
    ]
    assert stages and all(args.split()[0] == "python:3.11-slim" for args in stages), stages


def test_the_server_runs_as_a_user_that_is_not_root():
    steps = final_stage()
    users = [args for word, args in steps if word == "USER"]
    assert users, "no USER: the server would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid != "0", users[-1]
    created = " ".join(args for word, args in steps if word == "RUN")
    assert f"--uid {uid}" in created  # the user exists in the image, with that id
    user_at = max(i for i, (word, _) in enumerate(steps) if word == "USER")
    cmd_at = max(i for i, (word, _) in enumerate(steps) if word == "CMD")
    assert user_at < cmd_at
    assert not any(word == "RUN" for word, _ in steps[user_at:])  # nothing installed as that user


def test_only_the_server_extra_is_installed():
    runs = " ".join(args for word, args in final_stage() if word == "RUN")
    extras = re.findall(r"panggil-\*\.whl\)\[([^\]]*)\]", runs)
    assert extras == ["server"], extras


def test_the_data_volume_holds_the_database():
    steps = final_stage()
    volumes = [v for word, args in steps if word == "VOLUME" for v in json.loads(args)]
    assert volumes == [DATA]
    config_copy = next(args for word, args in steps if word == "COPY" and "config.yaml" in args)
    source, target = config_copy.split()[-2:]
    config = yaml.safe_load((ROOT / source).read_text())
    assert config["server"]["database"].startswith(DATA + "/")
    assert config["server"]["host"] == "0.0.0.0"  # reachable through the published port
    (cmd,) = [exec_form(args) for word, args in steps if word == "CMD"]
    assert cmd[-2:] == ["--config", target] and cmd[1:3] == ["-m", "server"]
    exposed = [args for word, args in steps if word == "EXPOSE"]
    assert exposed == [str(config["server"]["port"])]


def test_no_secret_is_baked_into_the_image():
    steps = final_stage()
    for word, args in steps:
        if word in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"secret|password|token|passw", args, re.I), (word, args)
    config_copy = next(args for word, args in steps if word == "COPY" and "config.yaml" in args)
    config = yaml.safe_load((ROOT / config_copy.split()[-2]).read_text())
    assert "secret_key" not in config["server"]
    assert "users" not in config
    assert all("token" not in counter for counter in config.get("counters", []))
    # The build context leaves out the demo config (it holds the demo's published secret key),
    # databases, generated secrets and the developer's virtualenv.
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in ("config.yaml", "*.sqlite", "var", ".venv", ".git", "secret*"):
        assert pattern in ignored, pattern


def health_command() -> list[str]:
    (healthcheck,) = [args for word, args in final_stage() if word == "HEALTHCHECK"]
    _, _, command = healthcheck.partition("CMD ")
    return exec_form(command)


def test_healthcheck_asks_api_health_with_what_the_image_has(live_server):
    """The slim image has no curl: the check is Python's urllib. It passes on a running server
    and fails where none answers."""
    command = health_command()
    assert command[0] == "/opt/panggil/venv/bin/python"
    assert "/api/health" in command[-1]
    code = command[-1]
    ours = subprocess.run([sys.executable, "-c", code.replace("127.0.0.1:5000", live_server.url[7:])],
                          capture_output=True, timeout=30, check=False)  # fmt: skip
    assert ours.returncode == 0, ours.stderr
    live_server.stop()
    gone = subprocess.run([sys.executable, "-c", code.replace("127.0.0.1:5000", live_server.url[7:])],
                          capture_output=True, timeout=30, check=False)  # fmt: skip
    assert gone.returncode != 0


def test_compose_publishes_the_port_keeps_the_volume_and_restarts():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    (service,) = compose["services"].values()
    assert service["build"] == "."
    assert service["restart"] in ("always", "unless-stopped")
    assert "5000:5000" in service["ports"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in service["volumes"]}
    assert DATA in mounts and mounts[DATA] in compose["volumes"]  # a named volume
    assert service.get("init") is True  # SIGTERM reaches the server, which is not process 1
    assert not service.get("environment")  # nothing secret passed in either


def test_docs_explain_the_container_and_the_first_admin():
    install = (ROOT / "docs" / "install.md").read_text()
    section = install[install.index("## Container") :]
    assert "docker compose up" in section and DATA in section
    assert "create-admin" in section and "one-time code" in section


def test_content_checks_need_no_hadolint():
    """The checks above stand in for a Dockerfile linter; where hadolint is installed, it agrees."""
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (not needed: the tests above check the Dockerfile)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout


# --- the real image ----------------------------------------------------------------------------


def container_engine() -> str:
    """`docker` when `docker info` answers; otherwise skip the test and say why."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no container engine: docker is not installed")
    try:
        info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30,
                              check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.skip("no container engine: `docker info` did not answer within 30 s")
    if info.returncode != 0:
        lines = (info.stderr or info.stdout).strip().splitlines() or ["no output"]
        pytest.skip(f"no container engine: `docker info` failed: {lines[-1]}")
    return docker


def run(*args: str, input: str | None = None, timeout: float = 60) -> str:
    result = subprocess.run(args, capture_output=True, text=True, input=input, timeout=timeout,
                            check=False)  # fmt: skip
    assert result.returncode == 0, f"{shlex.join(args)}: {result.stderr[-2000:]}"
    return result.stdout.strip()


def wait_healthy(docker: str, container: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = run(docker, "inspect", "--format", "{{.State.Health.Status}}", container)
        if status == "healthy":
            return
        if status == "unhealthy":
            break
        time.sleep(2)
    logs = subprocess.run([docker, "logs", container], capture_output=True, text=True, check=False)
    raise AssertionError(f"container {status}: {logs.stdout[-2000:]}{logs.stderr[-2000:]}")


def logs(docker: str, container: str) -> str:
    """The container's output; the server logs to stderr."""
    result = subprocess.run([docker, "logs", container], capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    return result.stdout + result.stderr


def start(docker: str, name: str, volume: str) -> str:
    """Run the image with the data volume; the address its port 5000 is published on."""
    run(
        docker, "run", "-d", "--name", name, "-p", "127.0.0.1::5000", "-v", f"{volume}:{DATA}", name
    )
    wait_healthy(docker, name)
    published = run(docker, "port", name, "5000/tcp").splitlines()[0]
    return "http://127.0.0.1:" + published.rsplit(":", 1)[1]


@pytest.mark.slow
def test_image_builds_starts_healthy_as_non_root_and_keeps_its_data():
    docker = container_engine()
    import requests

    name = f"panggil-test-{uuid.uuid4().hex[:8]}"
    volume = f"{name}-data"
    run(docker, "build", "-t", name, str(ROOT), timeout=1200)
    try:
        url = start(docker, name, volume)
        assert requests.get(url + "/api/health", timeout=10).json()["ok"] is True
        assert run(docker, "exec", name, "id", "-u") == "10001"
        assert "one-time code" in logs(docker, name)  # no admin yet: the set-up code
        # The documented first admin, then a new container: the database and secret stay.
        run(docker, "exec", "-i", name, "/opt/panggil/venv/bin/python", "-m", "server",
            "create-admin", "--config", "/etc/panggil/config.yaml", "--username", "kepala",
            "--password-stdin", input="kata-sandi-panjang-sekali\n")  # fmt: skip
        secret = run(docker, "exec", name, "cat", f"{DATA}/secret_key")
        run(docker, "stop", name)  # SIGINT (STOPSIGNAL): the server stops without a kill
        assert run(docker, "inspect", "--format", "{{.State.ExitCode}}", name) != "137"
        run(docker, "rm", name)
        url = start(docker, name, volume)
        assert run(docker, "exec", name, "cat", f"{DATA}/secret_key") == secret
        assert "one-time code" not in logs(docker, name)  # the admin is in the volume's database
        assert requests.get(url + "/api/health", timeout=10).ok
    finally:
        subprocess.run([docker, "rm", "-f", name], capture_output=True, check=False)
        subprocess.run([docker, "volume", "rm", "-f", volume], capture_output=True, check=False)
        subprocess.run([docker, "rmi", "-f", name], capture_output=True, check=False)
