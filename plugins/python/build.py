#!/usr/bin/env python3
"""Builds the Python plugins of this folder into WebAssembly components.

    python3 build.py [NAME ...]          # all, or the named ones
    python3 build.py --wit PATH [NAME ...]

Each lands in build/NAME.wasm, made by componentize-py with every WASI
import stubbed (CPython's libc imports wasi:sockets, which the sandbox
refuses). `cargo test` builds the same plugins itself (tests/artifacts).
The WIT is `--wit`, else $STRATA_WIT, else WIT below.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# The contract the plugins are built against: a WIT file or folder.
WIT = os.path.join(HERE, "..", "..", "wit")

#: (folder, module, component name), as tests/artifacts/build.rs lists them.
PLUGINS = [
    ("clean-dedupe", "clean_dedupe", "clean_dedupe_py"),
    ("checks/not-blank", "not_blank", "check_not_blank_py"),
    ("test/misbehave", "misbehave", "test_misbehave_py"),
]


def wit_path(arg=None):
    """The WIT to build against."""
    return os.path.abspath(arg or os.environ.get("STRATA_WIT") or os.path.join(HERE, WIT))


def build(folder, module, name, wit, out_dir):
    out = os.path.join(out_dir, f"{name}.wasm")
    cmd = [
        "componentize-py", "-d", wit, "-w", "plugin", "componentize", module,
        "-p", os.path.join(HERE, folder), "-p", os.path.join(HERE, "sdk"),
        "-o", out, "--stub-wasi",
    ]  # fmt: skip
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    subprocess.run(cmd, cwd=os.path.join(HERE, folder), env=env, check=True, stdout=subprocess.DEVNULL)
    return out


def main(argv):
    wit = None
    names = []
    args = iter(argv)
    for a in args:
        if a == "--wit":
            wit = next(args, None)
        else:
            names.append(a)
    wit = wit_path(wit)
    out_dir = os.path.join(HERE, "build")
    os.makedirs(out_dir, exist_ok=True)
    unknown = set(names) - {p[2] for p in PLUGINS}
    if unknown:
        sys.exit(f"unknown plugin(s): {', '.join(sorted(unknown))}")
    for folder, module, name in PLUGINS:
        if not names or name in names:
            print(build(folder, module, name, wit, out_dir))


if __name__ == "__main__":
    main(sys.argv[1:])
