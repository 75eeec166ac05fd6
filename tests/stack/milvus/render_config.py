#!/usr/bin/env python3
"""Render a Milvus working directory's configs/ from the PyPI wheel's config template.

Used by tests/stack/stack.sh before each Milvus start (standard library only).

  render_config.py --template T --glog G --workdir W [--value NAME=VAL]... [--set dotted.key=VAL]...

- The template (milvus/data/config.yaml.template of the `milvus` wheel) holds placeholders
  `{{ name }}`, `{{ name: default }}`, `{{ name(type) }}` and `{{ name(type): default }}`. Each is
  replaced by its --value, else by its default; a placeholder with neither is an error.
- Then each --set replaces the value of an existing key, addressed by its dotted path
  (e.g. `etcd.use.embed=false`), keeping the line's comment. A --set naming no key is an error, so a
  typo cannot pass silently. Nesting is read from the indentation (two spaces a level), like the
  wheel's own launcher does.
- Writes W/configs/milvus.yaml and W/configs/glog.conf, and makes W/logs (glog writes there) and W/run.
"""
import argparse
import os
import re
import shutil
import sys

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
KEY_LINE = re.compile(r"^( *)([A-Za-z0-9_]+):([^#]*)(#.*)?$")


def pairs(items, what):
    out = {}
    for item in items:
        if "=" not in item:
            sys.exit(f"render_config: {what} {item!r} is not NAME=VALUE")
        name, value = item.split("=", 1)
        out[name.strip()] = value
    return out


def fill_placeholders(text, values):
    missing = []
    used = set()

    def replace(match):
        body = match.group(1).strip()
        name, default = (body.split(":", 1) + [None])[:2]
        name = name.split("(", 1)[0].strip()
        used.add(name)
        if name in values:
            return values[name]
        if default is None:
            missing.append(name)
            return match.group(0)
        return default.strip()

    text = PLACEHOLDER.sub(replace, text)
    if missing:
        sys.exit(f"render_config: no value for placeholder(s): {', '.join(sorted(set(missing)))}")
    unknown = set(values) - used
    if unknown:
        sys.exit(f"render_config: --value for unknown placeholder(s): {', '.join(sorted(unknown))}")
    return text


def apply_overrides(text, overrides):
    path = []
    done = set()
    lines = []
    for line in text.split("\n"):
        match = None if line.lstrip().startswith("#") else KEY_LINE.match(line.rstrip())
        if match:
            indent, key, _, comment = match.groups()
            level = len(indent) // 2
            path = path[:level] + [key]
            dotted = ".".join(path)
            if dotted in overrides:
                line = f"{indent}{key}: {overrides[dotted]}" + (f" {comment}" if comment else "")
                done.add(dotted)
        lines.append(line)
    unknown = set(overrides) - done
    if unknown:
        sys.exit(f"render_config: --set for key(s) not in the template: {', '.join(sorted(unknown))}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", required=True)
    parser.add_argument("--glog", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--value", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--set", action="append", default=[], metavar="DOTTED.KEY=VALUE")
    args = parser.parse_args()

    with open(args.template, encoding="utf-8") as f:
        text = f.read()
    text = fill_placeholders(text, pairs(args.value, "--value"))
    text = apply_overrides(text, pairs(args.set, "--set"))

    configs = os.path.join(args.workdir, "configs")
    for d in (configs, os.path.join(args.workdir, "logs"), os.path.join(args.workdir, "run")):
        os.makedirs(d, exist_ok=True)
    target = os.path.join(configs, "milvus.yaml")
    with open(target + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(target + ".tmp", target)
    shutil.copyfile(args.glog, os.path.join(configs, "glog.conf"))


if __name__ == "__main__":
    main()
