"""Validates pipeline.toml files against `host schema`'s JSON Schema with
Python's jsonschema (the reference implementation of the spec), for
tests/schema/mod.rs.

    python3 validate.py SCHEMA.json REPO_ROOT FILE.toml...

Prints one JSON object: the schema's own problems (`schema`, checked
against the draft 2020-12 meta-schema) and, for every file and for every
pipeline bench/bench.py writes (`bench:<variant>`), its validation errors.
TOML is read with tomllib; a TOML date or time is its text, as an editor's
TOML language server sees it.
"""

import datetime
import importlib.util
import json
import sys
import tomllib
from pathlib import Path

from jsonschema import Draft202012Validator


def as_json(value):
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


def bench_pipelines(root):
    """bench/bench.py's pipeline_toml in each of its variants."""
    spec = importlib.util.spec_from_file_location("bench", root / "bench" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    start, end = bench.START, bench.START + datetime.timedelta(days=30)
    plugins = Path("/plugins")
    args = (start, end, Path("/landing"), "transactions-{date}.json", plugins)
    return {
        "bench:default": bench.pipeline_toml(*args),
        "bench:checks": bench.pipeline_toml(*args, checks=True),
        "bench:tables-none": bench.pipeline_toml(*args, tables="none"),
        "bench:memory-no-gold": bench.pipeline_toml(*args, memory="1GiB", gold=False),
    }


def main():
    schema = json.loads(Path(sys.argv[1]).read_text())
    root = Path(sys.argv[2])
    report = {"schema": [e.message for e in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema)]}
    validator = Draft202012Validator(schema)
    documents = {name: Path(name).read_text() for name in sys.argv[3:]}
    documents.update(bench_pipelines(root))
    for name, text in documents.items():
        instance = as_json(tomllib.loads(text))
        report[name] = [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]
    print(json.dumps(report))


main()
