"""The services' config files, one copy for both ways to run: templates in local/conf/<service>/.

A template holds `${NAME}` placeholders for what differs between the local mode and compose
(hosts, ports, paths); everything else is written once. The local mode renders them with values
from its settings (realtime_platform.local.services); compose renders them in its `render-conf`
job, from that job's environment, into a volume the services read:

    python -m realtime_platform.conf_templates OUT_DIR SERVICE...

A placeholder without a value is an error naming the file, never an empty string. Standard
library only: the compose job runs it on a bare Python.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parent.parent / "local" / "conf"

# The files of each service that carry placeholders (the others, e.g. log4j2.xml with its own
# ${...} lookups and the JMX exporter's rules, are used as they are).
RENDERED = {
    "pinot": ("zookeeper.cfg", "controller.conf", "broker.conf", "server.conf"),
    "trino": ("node.properties", "config.properties", "jvm.config", "log.properties"),
    "connect": ("connect-distributed.properties",),
}


class TemplateError(ValueError):
    pass


def placeholders(template: Path) -> set[str]:
    return {m.group("braced") for m in Template.pattern.finditer(template.read_text()) if m.group("braced")}


def render(template: Path, target: Path, values: Mapping[str, str]) -> Path:
    """Fills ${NAME} placeholders; an unknown placeholder is an error, not an empty string."""
    try:
        text = Template(template.read_text()).substitute(values)
    except KeyError as missing:
        raise TemplateError(f"{template}: no value for the placeholder ${{{missing.args[0]}}}") from None
    except ValueError as bad:
        raise TemplateError(f"{template}: {bad}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def render_service(service: str, out_dir: Path, values: Mapping[str, str]) -> list[Path]:
    """The service's rendered files, in out_dir/<service>/."""
    if service not in RENDERED:
        raise TemplateError(f"no templates for {service!r}; known: {', '.join(sorted(RENDERED))}")
    return [render(TEMPLATES / service / name, out_dir / service / name, values) for name in RENDERED[service]]


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out_dir, services = Path(args[0]), args[1:]
    try:
        for service in services:
            for path in render_service(service, out_dir, os.environ if environ is None else environ):
                print(f"rendered {path}")
    except TemplateError as error:
        print(f"render-conf: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
