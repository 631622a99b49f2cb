"""No secret is committed: tracked files hold references (${env:...}, ${ENV:...}, .env), never values."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import REPO

# Literal credentials as they would appear in configs, scripts or code.
PATTERNS = [
    re.compile(r"AKIA[0-9A-Z]{16}"),                                      # AWS access key id
    # a quoted literal assigned to a password/secret key: "password": "hunter22", SECRET = 'abc123'
    re.compile(r"(?i)(password|secret)[\w.-]*[\"']?\s*[:=]\s*[\"'](?!\$\{|changeme)[^\"'{}]{6,}[\"']"),
    # a properties / env line with a literal value: s3.aws-secret-key=abc123
    re.compile(r"(?i)^\s*[\w.-]*(password|secret)[\w.-]*\s*=\s*(?!\$\{|changeme)[^\s\"'{}()]{6,}\s*$"),
    re.compile(r"my-secret-pw"),                                          # the seed's demo password
]


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if not f.startswith("tests/") and (REPO / f).is_file()]


def test_no_literal_secrets_in_tracked_files():
    hits = []
    for name in tracked_files():
        try:
            text = (REPO / name).read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for pattern in PATTERNS:
                match = pattern.search(line)
                if match:
                    hits.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not hits, "possible literal secrets:\n" + "\n".join(hits)


def test_env_file_is_ignored():
    ignored = subprocess.run(["git", "check-ignore", ".env"], cwd=REPO, capture_output=True, text=True)
    assert ignored.returncode == 0, ".env must be git-ignored"


def test_the_addresses_make_up_prints_name_the_passwords_without_their_values(tmp_path, capsys):
    """`make up` output lands in CI logs: it says where each password is, not what it is."""
    from realtime_platform.local.stack import print_endpoints
    from tests.conftest import TEST_SECRETS, make_settings

    print_endpoints(make_settings(tmp_path))
    printed = capsys.readouterr().out
    assert "AIRFLOW_ADMIN_PASSWORD" in printed and "SUPERSET_ADMIN_PASSWORD" in printed
    leaked = [name for name, value in TEST_SECRETS.items() if str(value) in printed]
    assert not leaked, f"printed the values of {leaked}"
