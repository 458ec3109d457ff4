"""The Python SDK for Strata transform plugins.

A plugin is a class with ``open``, ``process`` and ``finish`` over lists of
dicts (one dict per row), exported with :func:`export`::

    import strata_plugin as sp

    class Upper(sp.Plugin):
        name = "upper"
        version = "0.1.0"
        description = "Upper-cases one string column"

        def open(self, ctx):
            self.column = ctx.params.require("column")
            return ctx.inputs[0].fields          # the output schema

        def process(self, input, rows):
            for row in rows:
                if row[self.column] is not None:
                    row[self.column] = row[self.column].upper()
            return rows

    Transform = sp.export(Upper)

Build it into a WebAssembly component with componentize-py (or
``host plugin build``)::

    componentize-py -d wit -w plugin componentize app -p . -o app.wasm --stub-wasi

The host makes a fresh instance for every partition and calls ``open`` once,
``process`` once per input batch (``input`` is the index into
``ctx.inputs``), then ``finish`` once. ``process`` and ``finish`` return
rows (a list of dicts, or None for none). Rows cross the boundary as JSON
lines; the host reads them back by the schema ``open`` returned.

Values, by column type: bool, int and float columns are Python ``bool``,
``int`` and ``float``; ``utf8``, ``date32`` (``"2025-02-18"``) and timestamp
columns (``"2025-02-18T10:00:00.000000Z"``, always six decimals, so they sort
as text) are ``str``; ``decimal128`` columns are :class:`decimal.Decimal`
and ``binary`` columns ``bytes``. Output may use the same types, or
``datetime.date``/``datetime.datetime`` (naive datetimes are taken as UTC).
A missing key in an output row is null.

Raise :class:`BadParams` or :class:`BadInput` to fail the partition with
your message; any other exception fails it too, with its type, message and
the line that raised it. ``print`` goes to the host's log.

Plugins are built with ``--stub-wasi``: there are no files, network,
environment or clock in the sandbox. ``time.time()`` and the other clocks of
the ``time`` module say the Unix epoch (0), as in plugins in other
languages; ``datetime.now()`` reads the stubbed clock and traps. ``random``
is seeded when the component is built, so it gives the same numbers on
every run.
"""

import decimal
import datetime
import json
import sys

try:  # In a component: the bindings componentize-py generates.
    from componentize_py_types import Err
    from wit_world.imports import host as _host
    from wit_world.imports import types as _types
except ImportError:  # Natively (unit tests of a plugin's logic).
    _host = None
    _types = None

    class Err(Exception):  # type: ignore[no-redef]
        def __init__(self, value):
            super().__init__(value)
            self.value = value


__all__ = [
    "BadInput",
    "BadParams",
    "Context",
    "Field",
    "Input",
    "Params",
    "Plugin",
    "PluginError",
    "export",
    "log",
]

#: Rows per JSON-lines chunk handed back to the host.
OUTPUT_CHUNK_ROWS = 1 << 16


class PluginError(Exception):
    """Fails the partition with this message."""

    kind = "failed"


class BadParams(PluginError):
    """The params cannot be used: name the param and what is wrong."""

    kind = "bad-params"


class BadInput(PluginError):
    """The input cannot be transformed: name the row and the value."""

    kind = "bad-input"


class Field:
    """One column: name, type (``int64``, ``utf8``, ``decimal128(12,2)``, …)
    and whether it may be null."""

    __slots__ = ("name", "type", "nullable")

    def __init__(self, name, type, nullable=True):
        self.name = name
        self.type = type
        self.nullable = nullable

    def __repr__(self):
        return f"Field({self.name!r}, {self.type!r}, nullable={self.nullable})"

    def __eq__(self, other):
        return isinstance(other, Field) and (self.name, self.type, self.nullable) == (
            other.name,
            other.type,
            other.nullable,
        )


class Input:
    """One input dataset: ``dataset`` (``layer/name``) and its ``fields``."""

    __slots__ = ("dataset", "fields")

    def __init__(self, dataset, fields):
        self.dataset = dataset
        self.fields = fields

    def field(self, name):
        """The field called ``name``, or None."""
        for f in self.fields:
            if f.name == name:
                return f
        return None


class Params:
    """The dataset's params from pipeline.toml. String values arrive as they
    are; any other value (number, bool, list, table) as JSON text."""

    def __init__(self, pairs):
        self._pairs = list(pairs)

    def get(self, key, default=None):
        for k, v in self._pairs:
            if k == key:
                return v
        return default

    def require(self, key):
        value = self.get(key)
        if value is None:
            raise BadParams(f"missing required param `{key}`")
        return value

    def json(self, key, default=None):
        """The value parsed as JSON, or ``default`` if unset."""
        value = self.get(key)
        if value is None:
            return default
        try:
            return json.loads(value)
        except ValueError as e:
            raise BadParams(f"param `{key}`: {e} in `{value}`") from None

    def list(self, key):
        """A list of strings: a JSON array (``["a", "b"]``) or comma-separated
        text (``a, b``); items trimmed, empty ones dropped."""
        value = self.get(key)
        if value is None:
            return []
        if value.lstrip().startswith("["):
            try:
                items = json.loads(value)
            except ValueError as e:
                raise BadParams(
                    f"param `{key}` must be a list of strings (a JSON array or comma-separated): {e}"
                ) from None
            if not all(isinstance(i, str) for i in items):
                raise BadParams(f"param `{key}` must be a list of strings")
        else:
            items = value.split(",")
        return [i.strip() for i in items if i.strip()]

    def flag(self, key, default=None):
        value = self.get(key)
        if value is None:
            return default
        if value.strip() in ("true", "false"):
            return value.strip() == "true"
        raise BadParams(f"param `{key}` must be true or false, not `{value}`")

    def check_known(self, known):
        """BadParams for any key not in ``known``: catches typos."""
        for k, _ in self._pairs:
            if k not in known:
                raise BadParams(
                    f"unknown param `{k}`; this plugin takes: {', '.join(known)}"
                )

    def items(self):
        return list(self._pairs)


class Context:
    """Everything a plugin may know about the partition it computes."""

    def __init__(self, dataset, partition, period_start, period_end, params, inputs):
        self.dataset = dataset
        self.partition = partition
        self.period_start = period_start
        self.period_end = period_end
        self.params = params
        self.inputs = inputs


class Plugin:
    """Subclass this; set ``name``, ``version``, ``description``."""

    name = "plugin"
    version = "0.1.0"
    description = ""

    def open(self, ctx):
        """Begin a partition; return the output schema (a list of Field)."""
        raise NotImplementedError("a plugin must implement open() and return its output fields")

    def process(self, input, rows):
        """One batch of rows of input number ``input``; return output rows."""
        return None

    def finish(self):
        """No more input; return the remaining output rows."""
        return None


def log(message, level="info"):
    """A line in the host's log: level ``debug``, ``info``, ``warn`` or ``error``."""
    if _host is None:
        sys.__stderr__.write(f"[{level}] {message}\n")
        return
    levels = {
        "debug": _types.LogLevel.DEBUG,
        "info": _types.LogLevel.INFO,
        "warn": _types.LogLevel.WARN,
        "error": _types.LogLevel.ERROR,
    }
    _host.log(levels.get(level, _types.LogLevel.INFO), str(message))


class _LogStream:
    """sys.stdout / sys.stderr: whole lines to the host's log."""

    def __init__(self, level):
        self.level = level
        self.pending = ""

    def write(self, text):
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            log(line, self.level)
        return len(text)

    def flush(self):
        if self.pending:
            log(self.pending, self.level)
            self.pending = ""

    def isatty(self):
        return False


if _host is not None:
    sys.stdout = _LogStream("info")
    sys.stderr = _LogStream("warn")

    # The clock, fixed at the Unix epoch as for plugins in other languages
    # (the component's own clock imports are stubbed and would trap).
    import time as _time

    for _name in ("time", "monotonic", "perf_counter", "process_time"):
        setattr(_time, _name, lambda: 0.0)
        setattr(_time, _name + "_ns", lambda: 0)


# --- values ---------------------------------------------------------------


def _reader(field_type):
    """How a JSON value of this column type becomes a Python value (None:
    as it is)."""
    if field_type.startswith("decimal"):
        return decimal.Decimal
    if field_type == "binary":
        return bytes.fromhex
    return None


def _default(value):
    """JSON for the values json.dumps does not know."""
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a decimal number")
        return format(value, "f")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            return value.isoformat(timespec="microseconds") + "Z"
        return value.isoformat(timespec="microseconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} value {value!r} cannot be a column value")


def _decode(batch, readers):
    text = bytes(batch).decode("utf-8").strip()
    if not text:
        return []
    rows = json.loads("[" + text.replace("\n", ",") + "]")
    for name, read in readers:
        for row in rows:
            value = row.get(name)
            if value is not None:
                row[name] = read(value)
    return rows


def _encode(rows):
    if rows is None:
        return []
    if isinstance(rows, dict):
        raise TypeError("return a list of rows (dicts), not one dict")
    rows = list(rows)
    dumps = json.JSONEncoder(
        ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_default
    ).encode
    chunks = []
    for start in range(0, len(rows), OUTPUT_CHUNK_ROWS):
        lines = []
        for i, row in enumerate(rows[start : start + OUTPUT_CHUNK_ROWS], start + 1):
            if not isinstance(row, dict):
                raise TypeError(f"output row {i} is a {type(row).__name__}, not a dict")
            lines.append(dumps(row))
        chunks.append(("\n".join(lines) + "\n").encode("utf-8"))
    return chunks


# --- the export -------------------------------------------------------------


def _failure(e):
    """The contract's plugin-error for an exception."""
    if isinstance(e, PluginError):
        message = str(e)
        kind = e.kind
    else:
        # Where it was raised, without reading source files (there are
        # none in the sandbox: traceback's line lookup would trap).
        where = ""
        tb = e.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is not None:
            code = tb.tb_frame.f_code
            where = f" (at {code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno} in {code.co_name})"
        message = f"{type(e).__name__}: {e}{where}"
        kind = "failed"
    if _types is None:
        return Err((kind, message))
    if kind == "bad-params":
        return Err(_types.PluginError_BadParams(message))
    if kind == "bad-input":
        return Err(_types.PluginError_BadInput(message))
    return Err(_types.PluginError_Failed(message))


def _to_field(f):
    if isinstance(f, Field):
        return f
    if isinstance(f, dict):
        return Field(f["name"], f["type"], f.get("nullable", True))
    if isinstance(f, (tuple, list)):
        return Field(*f)
    raise TypeError(f"an output field must be a Field, a dict or a tuple, not {f!r}")


def export(plugin_class):
    """The class componentize-py exports for ``plugin_class``: assign it to
    ``Transform`` at the top level of the app module."""

    state = {}

    def run(call):
        try:
            return call()
        except Err:
            raise
        except BaseException as e:  # noqa: BLE001 - every failure is the author's message
            raise _failure(e) from None

    class Transform:
        def describe(self):
            return _types.PluginInfo(
                str(plugin_class.name),
                str(plugin_class.version),
                str(plugin_class.description),
                _types.DataFormat.JSON_LINES,
            )

        def open(self, context):
            def call():
                ctx = Context(
                    context.dataset,
                    context.partition,
                    context.period_start,
                    context.period_end,
                    Params(context.params),
                    [
                        Input(i.dataset, [Field(f.name, f.data_type, f.nullable) for f in i.fields])
                        for i in context.inputs
                    ],
                )
                state["readers"] = [
                    [(f.name, r) for f in i.fields if (r := _reader(f.type)) is not None]
                    for i in ctx.inputs
                ]
                plugin = plugin_class()
                fields = plugin.open(ctx)
                if fields is None:
                    raise PluginError(
                        "open() returned no output schema: return a list of Field"
                    )
                state["plugin"] = plugin
                return [
                    _types.Field(f.name, f.type, bool(f.nullable))
                    for f in map(_to_field, fields)
                ]

            return run(call)

        def process(self, input, batch):
            def call():
                readers = state["readers"][input] if input < len(state["readers"]) else []
                rows = _decode(batch, readers)
                return _encode(state["plugin"].process(input, rows))

            return run(call)

        def finish(self):
            return run(lambda: _encode(state["plugin"].finish()))

    Transform.__name__ = "Transform"
    Transform.__qualname__ = "Transform"
    return Transform
