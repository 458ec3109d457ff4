"""The Python SDK for Strata transform plugins (contract ``strata:plugin@0.2.0``).

A plugin is a class with ``open``, ``process`` and ``finish`` over lists of
dicts (one dict per row), exported with :func:`export`::

    import strata_plugin as sp

    class Upper(sp.Plugin):
        name = "upper"
        version = "0.1.0"
        description = "Upper-cases one string column"

        def open(self, ctx):
            self.column = ctx.params.require("column", str)
            return ctx.inputs[0].fields          # the output schema

        def process(self, input, partition, rows):
            for row in rows:
                if row[self.column] is not None:
                    row[self.column] = row[self.column].upper()
            return rows

    Transform = sp.export(Upper)

Build it into a WebAssembly component with componentize-py (or
``host plugin build``)::

    componentize-py -d wit -w plugin componentize app -p . -o app.wasm --stub-wasi

**The calls.** The host makes a fresh instance for every partition and calls
``open(ctx)`` once, ``process(input, partition, rows)`` once per input
batch, then ``finish()``. ``process`` and ``finish`` return rows: a list of
dicts, None for none, or a generator.

``ctx`` has ``dataset`` and ``partition`` (``"date=2025-02-18"``) of the
output, ``period_start``/``period_end`` (RFC 3339, end exclusive), ``params``
and ``inputs``. The SDK also sets ``self.ctx`` before ``open``.

**Params** are the dataset's params from pipeline.toml as a dict
(:class:`Params`) of JSON values: ``3`` is an ``int``, ``"3"`` a ``str``,
lists are lists and tables dicts. Besides the dict methods it has
``require(key, type)``, ``get(key, default, type)`` (a wrong type fails the
partition with ``bad-params`` naming the key), ``list(key)`` (a list of
strings, or one comma-separated string), ``flag(key, default)`` and
``check_known(keys)``.

**Inputs.** ``ctx.inputs[i]`` is an :class:`Input`: its ``dataset``
(``layer/name``), ``fields`` (every column it has) and ``partitions`` (the
partition ids this partition reads, oldest first: one for a same-day input,
several for a window or an ``all`` input). In ``open``, a plugin may say how
it reads an input::

    ctx.inputs[0].read(columns=["id", "amount"], ordered=False)

``columns``: the host reads only these (a projection; batches then hold
only these columns); ``ordered=False``: the input's partitions may arrive in
any order (each partition's batches still together and in order). Without
a ``read`` call an input is read whole and in order. ``read`` returns the
fields it reads.

**process** gets ``input`` (the index into ``ctx.inputs``), ``partition``
(the id of the input partition the batch comes from, one of
``ctx.inputs[input].partitions``) and the batch's rows.

**finish** is where a plugin that collects rows writes them out. Return
them all at once as a list, or ``yield`` them: rows (dicts) one at a time,
or lists of rows; the SDK hands them to the host a chunk at a time, so a
partition's output need not be in memory at once::

    def finish(self):
        for key in sorted(self.groups):
            yield {"key": key, "rows": self.groups[key]}

``process`` may be a generator too (its rows are all taken before it
returns).

**Values**, by column type: bool, int and float columns are Python ``bool``,
``int`` and ``float``; ``utf8``, ``date32`` (``"2025-02-18"``) and timestamp
columns (``"2025-02-18T10:00:00.000000Z"``, always six decimals, so they sort
as text) are ``str``; ``decimal128`` columns are :class:`decimal.Decimal`
and ``binary`` columns ``bytes``. Output may use the same types, or
``datetime.date``/``datetime.datetime`` (naive datetimes are taken as UTC).
A missing key in an output row is null. A :class:`Field`'s ``type`` is the
type's name: ``bool``, ``int8`` … ``uint64``, ``float32``, ``float64``,
``utf8``, ``binary``, ``date32``, ``timestamp-us``, ``timestamp-us-utc`` or
``decimal128(P,S)``.

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

import builtins
import decimal
import datetime
import json
import re
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

#: The contract this SDK speaks.
CONTRACT = "strata:plugin@0.2.0"

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


# --- column types ------------------------------------------------------------

# The contract's data-type cases without a payload, by the SDK's type name.
_TYPE_CASES = {
    "bool": "Boolean",
    "int8": "Int8",
    "int16": "Int16",
    "int32": "Int32",
    "int64": "Int64",
    "uint8": "Uint8",
    "uint16": "Uint16",
    "uint32": "Uint32",
    "uint64": "Uint64",
    "float32": "Float32",
    "float64": "Float64",
    "utf8": "Utf8",
    "binary": "Binary",
    "date32": "Date32",
    "timestamp-us": "TimestampUs",
    "timestamp-us-utc": "TimestampUsUtc",
}
_TYPE_NAMES = {case: name for name, case in _TYPE_CASES.items()}
_DECIMAL = re.compile(r"decimal128\(\s*(\d+)\s*,\s*(-?\d+)\s*\)")


def _parse_decimal_type(type_name):
    """(precision, scale) of ``decimal128(P,S)``, or None."""
    m = _DECIMAL.fullmatch(type_name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _type_to_wit(type_name, types):
    """The contract's data-type for a type name."""
    name = type_name.strip() if isinstance(type_name, str) else type_name
    if name == "boolean":
        name = "bool"
    case = _TYPE_CASES.get(name)
    if case is not None:
        return getattr(types, "DataType_" + case)()
    dec = _parse_decimal_type(name) if isinstance(name, str) else None
    if dec is not None:
        return types.DataType_Decimal128(types.Decimal(dec[0], dec[1]))
    raise PluginError(
        f"unknown column type {type_name!r}: one of {', '.join(_TYPE_CASES)} or decimal128(P,S)"
    )


def _type_from_wit(data_type):
    """The type name of one of the contract's data-types."""
    case = type(data_type).__name__.removeprefix("DataType_")
    if case == "Decimal128":
        return f"decimal128({data_type.value.precision},{data_type.value.scale})"
    try:
        return _TYPE_NAMES[case]
    except KeyError:
        raise PluginError(f"the host sent an unknown column type {data_type!r}") from None


class Field:
    """One column: ``name``, ``type`` (``int64``, ``utf8``,
    ``decimal128(12,2)``, …) and whether it may be null."""

    __slots__ = ("name", "type", "nullable")

    def __init__(self, name, type, nullable=True):
        self.name = name
        self.type = type
        self.nullable = nullable

    @property
    def decimal(self):
        """``(precision, scale)`` of a decimal128 column, else None."""
        return _parse_decimal_type(self.type) if isinstance(self.type, str) else None

    def __repr__(self):
        return f"Field({self.name!r}, {self.type!r}, nullable={self.nullable})"

    def __eq__(self, other):
        return isinstance(other, Field) and (self.name, self.type, self.nullable) == (
            other.name,
            other.type,
            other.nullable,
        )

    __hash__ = None


class Input:
    """One input dataset: its ``index`` in ``ctx.inputs``, ``dataset``
    (``layer/name``), ``fields`` (every column it has) and ``partitions``
    (the ids of the partitions read, oldest first)."""

    def __init__(self, dataset, fields, partitions=(), index=0):
        self.index = index
        self.dataset = dataset
        self.fields = list(fields)
        self.partitions = list(partitions)
        self.columns = None
        self.ordered = True
        self._declared = False

    def field(self, name):
        """The field called ``name``, or None."""
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def read(self, columns=None, ordered=True):
        """Says how this input is read (call it in ``open``; a second call
        replaces the first). ``columns``: the columns to read (None: all);
        ``ordered=False``: its partitions may come in any order. Returns the
        fields read, in the input's column order."""
        if columns is not None:
            if isinstance(columns, str):
                raise TypeError("read(columns=…) takes a list of column names, not one string")
            wanted = []
            for c in columns:
                if c not in wanted:
                    wanted.append(c)
            if self.fields:
                have = {f.name for f in self.fields}
                for c in wanted:
                    if c not in have:
                        raise BadParams(
                            f"input `{self.dataset}` has no column `{c}` "
                            f"(it has: {', '.join(f.name for f in self.fields)})"
                        )
            columns = wanted
        self.columns = columns
        self.ordered = bool(ordered)
        self._declared = True
        return self.read_fields()

    def read_fields(self):
        """The fields the batches of this input hold."""
        if self.columns is None:
            return list(self.fields)
        keep = set(self.columns)
        return [f for f in self.fields if f.name in keep]

    def __repr__(self):
        return f"Input({self.dataset!r}, {len(self.fields)} fields, partitions={self.partitions!r})"


_TYPE_WORDS = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


def _describe_type(t):
    if isinstance(t, tuple):
        return " or ".join(_describe_type(x) for x in t)
    return _TYPE_WORDS.get(t, f"a {getattr(t, '__name__', t)}")


def _has_type(value, t):
    if isinstance(t, tuple):
        return any(_has_type(value, x) for x in t)
    if t is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if t is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, t)


class Params(dict):
    """The dataset's params from pipeline.toml: a dict of JSON values
    (``3`` and ``"3"`` stay apart), with helpers that fail the partition
    with ``bad-params`` naming the key."""

    def get(self, key, default=None, type=None):
        """The value of ``key``, or ``default`` if unset (or null). With
        ``type`` (``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``
        or a tuple of them), a value of another type is BadParams; ``float``
        takes integers too and gives a float."""
        value = super().get(key)
        if value is None:
            return default
        if type is not None:
            if not _has_type(value, type):
                raise BadParams(
                    f"param `{key}` must be {_describe_type(type)}, not {json.dumps(value)}"
                )
            if type is float and not isinstance(value, float):
                value = float(value)
        return value

    def require(self, key, type=None):
        """The value of ``key``; BadParams if it is unset (or of another
        ``type``, as for :meth:`get`)."""
        value = self.get(key, None, type)
        if value is None:
            raise BadParams(f"missing required param `{key}`")
        return value

    def list(self, key):
        """A list of strings: a list (``["a", "b"]``) or one comma-separated
        string (``"a, b"``); items trimmed, empty ones dropped; ``[]`` if
        unset."""
        value = super().get(key)
        if value is None:
            return []
        if isinstance(value, str):
            items = value.split(",")
        elif isinstance(value, builtins.list) and all(isinstance(i, str) for i in value):
            items = value
        else:
            raise BadParams(
                f"param `{key}` must be a list of strings (or one comma-separated string), "
                f"not {json.dumps(value)}"
            )
        return [i.strip() for i in items if i.strip()]

    def flag(self, key, default=None):
        """A bool param: true or false."""
        return self.get(key, default, bool)

    def check_known(self, known):
        """BadParams for any key not in ``known``: catches typos."""
        for k in self:
            if k not in known:
                raise BadParams(f"unknown param `{k}`; this plugin takes: {', '.join(known)}")

    @classmethod
    def parse(cls, text):
        """Params from the contract's JSON object text."""
        if not text or not text.strip():
            return cls()
        try:
            value = json.loads(text)
        except ValueError as e:
            raise BadParams(f"the params are not JSON: {e}") from None
        if not isinstance(value, dict):
            raise BadParams(f"the params must be a JSON object, not {text!r}")
        return cls(value)


class Context:
    """Everything a plugin may know about the partition it computes."""

    def __init__(self, dataset, partition, period_start, period_end, params, inputs):
        self.dataset = dataset
        self.partition = partition
        self.period_start = period_start
        self.period_end = period_end
        self.params = params if isinstance(params, Params) else Params(params or {})
        self.inputs = inputs
        for i, inp in enumerate(inputs):
            inp.index = i


class Plugin:
    """Subclass this; set ``name``, ``version``, ``description``."""

    name = "plugin"
    version = "0.1.0"
    description = ""

    def open(self, ctx):
        """Begin a partition; return the output schema (a list of Field)."""
        raise NotImplementedError("a plugin must implement open() and return its output fields")

    def process(self, input, partition, rows):
        """One batch of rows of input number ``input``, from its partition
        ``partition``; return output rows."""
        return None

    def finish(self):
        """No more input; return (or yield) the remaining output rows."""
        return None


def log(message, level="info"):
    """A line in the host's log: level ``debug``, ``info``, ``warn`` or ``error``."""
    if _host is None:
        sys.__stderr__.write(f"[{level}] {message}\n")
        return
    _log_to(_host, _types, message, level)


def _log_to(host, types, message, level):
    levels = {
        "debug": types.LogLevel.DEBUG,
        "info": types.LogLevel.INFO,
        "warn": types.LogLevel.WARN,
        "error": types.LogLevel.ERROR,
    }
    host.log(levels.get(level, types.LogLevel.INFO), str(message))


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


_dumps = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_default
).encode


class _Output:
    """Output rows to JSON-lines chunks, counting rows across calls so an
    error names the output row."""

    def __init__(self):
        self.rows = 0

    def encode(self, rows):
        chunks = []
        for start in range(0, len(rows), OUTPUT_CHUNK_ROWS):
            lines = []
            for row in rows[start : start + OUTPUT_CHUNK_ROWS]:
                self.rows += 1
                if not isinstance(row, dict):
                    raise TypeError(f"output row {self.rows} is a {type(row).__name__}, not a dict")
                lines.append(_dumps(row))
            chunks.append(("\n".join(lines) + "\n").encode("utf-8"))
        return chunks


def _is_rows(value):
    return isinstance(value, (list, tuple))


def _items(result, what):
    """What ``process`` or ``finish`` returned, as an iterator of rows and
    lists of rows, or a list of rows when it returned one."""
    if result is None:
        return []
    if isinstance(result, dict):
        raise TypeError(f"{what}() returned one dict: return a list of rows (dicts)")
    if _is_rows(result):
        return result
    try:
        return iter(result)
    except TypeError:
        raise TypeError(
            f"{what}() returned a {type(result).__name__}: return a list of rows (dicts), "
            "None, or yield rows"
        ) from None


class _Drain:
    """Hands ``finish``'s output to the host across calls: a list at once,
    a generator a chunk (up to OUTPUT_CHUNK_ROWS rows, or one yielded list)
    at a time; an empty list when there is no more."""

    def __init__(self, result, output):
        self.output = output
        items = _items(result, "finish")
        if _is_rows(items):
            self.whole = items
            self.iterator = None
        else:
            self.whole = None
            self.iterator = items

    def next(self):
        if self.whole is not None:
            rows, self.whole = self.whole, []
            return self.output.encode(rows)
        if self.iterator is None:
            return []
        pending = []
        for item in self.iterator:
            if isinstance(item, dict):
                pending.append(item)
                if len(pending) >= OUTPUT_CHUNK_ROWS:
                    return self.output.encode(pending)
            elif _is_rows(item):
                if item:
                    return self.output.encode(pending + list(item))
            elif item is not None:
                raise TypeError(
                    f"finish() yielded a {type(item).__name__}: yield rows (dicts) or lists of rows"
                )
        self.iterator = None
        return self.output.encode(pending)


def _collect(result, what):
    """Every row ``process`` returned or yielded."""
    items = _items(result, what)
    if _is_rows(items):
        return items
    rows = []
    for item in items:
        if isinstance(item, dict):
            rows.append(item)
        elif _is_rows(item):
            rows.extend(item)
        elif item is not None:
            raise TypeError(f"{what}() yielded a {type(item).__name__}: yield rows (dicts) or lists of rows")
    return rows


# --- the export -------------------------------------------------------------


def _failure(e, types):
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
    if types is None:
        return Err((kind, message))
    if kind == "bad-params":
        return Err(types.PluginError_BadParams(message))
    if kind == "bad-input":
        return Err(types.PluginError_BadInput(message))
    return Err(types.PluginError_Failed(message))


def _to_field(f):
    if isinstance(f, Field):
        return f
    if isinstance(f, dict):
        return Field(f["name"], f["type"], f.get("nullable", True))
    if isinstance(f, (tuple, list)):
        return Field(*f)
    raise TypeError(f"an output field must be a Field, a dict or a tuple, not {f!r}")


def _context(context, types):
    """The SDK's Context for the contract's partition-context."""
    return Context(
        context.dataset,
        context.partition,
        context.period_start,
        context.period_end,
        Params.parse(context.params),
        [
            Input(
                i.dataset,
                [Field(f.name, _type_from_wit(f.data_type), f.nullable) for f in i.fields],
                i.partitions,
                n,
            )
            for n, i in enumerate(context.inputs)
        ],
    )


def _plan(ctx, fields, types):
    """The contract's plan: the output schema and how each input is read."""
    output = [
        types.Field(str(f.name), _type_to_wit(f.type, types), bool(f.nullable))
        for f in map(_to_field, fields)
    ]
    inputs = []
    if any(i._declared for i in ctx.inputs):
        inputs = [types.InputPlan(i.columns, i.ordered) for i in ctx.inputs]
    return types.Plan(output, inputs)


def _export(plugin_class, types):
    """The Transform class for ``plugin_class`` over the given bindings
    (the generated ``wit_world.imports.types``)."""

    state = {}

    def run(call):
        try:
            return call()
        except Err:
            raise
        except BaseException as e:  # noqa: BLE001 - every failure is the author's message
            raise _failure(e, types) from None

    class Transform:
        def describe(self):
            return types.PluginInfo(
                str(plugin_class.name),
                str(plugin_class.version),
                str(plugin_class.description),
                types.DataFormat.JSON_LINES,
            )

        def open(self, context):
            def call():
                ctx = _context(context, types)
                plugin = plugin_class()
                plugin.ctx = ctx
                fields = plugin.open(ctx)
                if fields is None:
                    raise PluginError("open() returned no output schema: return a list of Field")
                plan = _plan(ctx, fields, types)
                state["ctx"] = ctx
                state["readers"] = [
                    [(f.name, r) for f in i.read_fields() if (r := _reader(f.type)) is not None]
                    for i in ctx.inputs
                ]
                state["plugin"] = plugin
                state["output"] = _Output()
                return plan

            return run(call)

        def process(self, input, partition, batch):
            def call():
                inputs = state["ctx"].inputs
                if input >= len(inputs):
                    raise PluginError(f"a batch of input {input}, but there are {len(inputs)} inputs")
                partitions = inputs[input].partitions
                if partition >= len(partitions):
                    raise PluginError(
                        f"a batch of partition {partition} of input `{inputs[input].dataset}`, "
                        f"which reads {len(partitions)} partitions"
                    )
                rows = _decode(batch, state["readers"][input])
                out = state["plugin"].process(input, partitions[partition], rows)
                return state["output"].encode(_collect(out, "process"))

            return run(call)

        def finish(self):
            def call():
                drain = state.get("drain")
                if drain is None:
                    drain = state["drain"] = _Drain(state["plugin"].finish(), state["output"])
                return drain.next()

            return run(call)

    Transform.__name__ = "Transform"
    Transform.__qualname__ = "Transform"
    return Transform


def export(plugin_class):
    """The class componentize-py exports for ``plugin_class``: assign it to
    ``Transform`` at the top level of the app module."""
    return _export(plugin_class, _types)
