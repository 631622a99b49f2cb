"""The one renderer of the services' config templates (local mode and compose's render-conf)."""

from __future__ import annotations

import pytest

from realtime_platform import conf_templates
from realtime_platform.conf_templates import RENDERED, TEMPLATES, TemplateError, placeholders, render


def test_a_missing_value_names_the_file_and_the_placeholder(tmp_path):
    template = tmp_path / "server.conf"
    template.write_text("host=${PINOT_SERVER_HOST}\nport=${PINOT_SERVER_NETTY_PORT}\n")
    with pytest.raises(TemplateError, match=r"server.conf: no value for the placeholder \$\{PINOT_SERVER_NETTY_PORT\}"):
        render(template, tmp_path / "out" / "server.conf", {"PINOT_SERVER_HOST": "pinot-server"})
    assert not (tmp_path / "out").exists(), "nothing half-written"


def test_values_fill_every_placeholder(tmp_path):
    template = tmp_path / "a.properties"
    template.write_text("uri=http://${TRINO_HOST}:${TRINO_PORT}\n")
    target = render(template, tmp_path / "a", {"TRINO_HOST": "trino", "TRINO_PORT": "8080"})
    assert target.read_text() == "uri=http://trino:8080\n"


def test_the_command_fails_with_a_message_and_exit_code_1(tmp_path, capsys):
    assert conf_templates.main([str(tmp_path), "connect"], environ={}) == 1
    assert "render-conf: " in capsys.readouterr().err
    assert conf_templates.main([str(tmp_path), "kafka"], environ={}) == 1
    assert "no templates for 'kafka'" in capsys.readouterr().err
    assert conf_templates.main([], environ={}) == 2


def test_the_command_renders_each_services_files(tmp_path, capsys):
    needed = {name for service, files in RENDERED.items() for f in files for name in placeholders(TEMPLATES / service / f)}
    assert conf_templates.main([str(tmp_path), *RENDERED], environ={n: "x" for n in needed}) == 0
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(f"{service}/{f}" for service, files in RENDERED.items() for f in files)
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and "${" in p.read_text()]
