"""Unit tests of the Python SDK's glue, without a host.

    python3 -m unittest discover -s plugins/python/tests -v

The SDK is driven through the Transform class it exports, over the real
bindings componentize-py generates for the WIT the plugins are built
against (build.py's), so the plan, the data types and the errors it hands
back are the types the component would. Needs componentize-py on PATH
(the tests are skipped without it).
"""

import decimal
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import types as pytypes
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(PYTHON, "sdk"))

import strata_plugin as sp  # noqa: E402  (natively: no bindings imported)


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load(os.path.join(PYTHON, "build.py"), "strata_python_build")

BINDINGS = None  # the generated wit_world.imports.types, and Err


def setUpModule():
    global BINDINGS, WORK
    if shutil.which("componentize-py") is None:
        raise unittest.SkipTest("componentize-py is not on PATH")
    WORK = tempfile.mkdtemp(prefix="strata-py-sdk-")
    subprocess.run(
        ["componentize-py", "-d", build.wit_path(), "-w", "plugin", "bindings", WORK],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    sys.path.insert(0, WORK)
    from componentize_py_types import Err
    from wit_world.imports import types

    BINDINGS = pytypes.SimpleNamespace(types=types, Err=Err)
    # The glue raises the bindings' Err in a component; natively the SDK
    # has its own, so tests point it at the bindings' one.
    sp.Err = Err


def tearDownModule():
    if BINDINGS is not None:
        shutil.rmtree(WORK, ignore_errors=True)


def t():
    return BINDINGS.types


def wit_field(name, type_name, nullable=True):
    return t().Field(name, sp._type_to_wit(type_name, t()), nullable)


def context(inputs, params="{}", dataset="silver/out", partition="date=2025-02-18"):
    """A partition-context: inputs as (dataset, [(name, type)], [partition ids])."""
    return t().PartitionContext(
        dataset,
        partition,
        "2025-02-18T00:00:00Z",
        "2025-02-19T00:00:00Z",
        params,
        [
            t().Input(d, [wit_field(n, ty) for n, ty in fields], list(parts))
            for d, fields, parts in inputs
        ],
    )


ONE_INPUT = [("bronze/tx", [("id", "utf8"), ("amount", "decimal128(12,2)"), ("note", "utf8")], ["date=2025-02-18"])]


def lines(*rows):
    import json

    return ("\n".join(json.dumps(r) for r in rows) + "\n").encode()


def decode(chunks):
    import json

    return [json.loads(line) for c in chunks for line in bytes(c).decode().splitlines() if line]


def error_of(call):
    """(case name, message) of the plugin-error a call raised."""
    try:
        call()
    except BINDINGS.Err as e:
        return type(e.value).__name__.removeprefix("PluginError_"), e.value.value
    raise AssertionError("no plugin-error raised")


class Echo(sp.Plugin):
    """Copies input 0 and remembers what it was given."""

    name = "echo"
    version = "1.2.3"
    description = "copies"

    def open(self, ctx):
        self.seen = []
        Echo.last = self
        return ctx.inputs[0].fields

    def process(self, input, partition, rows):
        self.seen.append((input, partition, rows))
        return rows


class TestParams(unittest.TestCase):
    def test_json_values_keep_their_types(self):
        p = sp.Params.parse('{"n": 3, "s": "3", "f": 1.5, "b": true, "l": ["a"], "t": {"x": 1}}')
        self.assertIsInstance(p, dict)
        self.assertEqual(p["n"], 3)
        self.assertEqual(p["s"], "3")
        self.assertNotEqual(p["n"], p["s"])
        self.assertEqual(p.get("n", type=int), 3)
        self.assertEqual(p.get("n", type=float), 3.0)
        self.assertIsInstance(p.get("n", type=float), float)
        self.assertEqual(p.require("t", dict), {"x": 1})
        self.assertEqual(p.get("missing", 7, int), 7)
        self.assertTrue(p.flag("b"))
        self.assertEqual(p.flag("nope", False), False)

    def test_wrong_types_and_missing_keys_are_bad_params(self):
        p = sp.Params.parse('{"n": "3", "b": 1, "l": [1, 2]}')
        with self.assertRaisesRegex(sp.BadParams, r'param `n` must be an integer, not "3"'):
            p.get("n", type=int)
        with self.assertRaisesRegex(sp.BadParams, "param `b` must be true or false, not 1"):
            p.flag("b")
        with self.assertRaisesRegex(sp.BadParams, "missing required param `x`"):
            p.require("x")
        with self.assertRaisesRegex(sp.BadParams, "param `l` must be a list of strings"):
            p.list("l")
        with self.assertRaisesRegex(sp.BadParams, "unknown param `b`; this plugin takes: n, l"):
            p.check_known(["n", "l"])
        # bool is not an int, though Python says it is.
        with self.assertRaises(sp.BadParams):
            sp.Params({"n": True}).get("n", type=int)

    def test_list_takes_a_list_or_comma_separated_text(self):
        p = sp.Params({"a": ["x", " y ", ""], "b": "x, y,,", "c": None})
        self.assertEqual(p.list("a"), ["x", "y"])
        self.assertEqual(p.list("b"), ["x", "y"])
        self.assertEqual(p.list("c"), [])
        self.assertEqual(p.list("d"), [])

    def test_empty_or_non_object_params(self):
        self.assertEqual(sp.Params.parse(""), {})
        self.assertEqual(sp.Params.parse("{}"), {})
        with self.assertRaises(sp.BadParams):
            sp.Params.parse("[1]")


class TestTypes(unittest.TestCase):
    def test_every_type_round_trips(self):
        names = list(sp._TYPE_CASES) + ["decimal128(38,4)", "decimal128(5,-2)"]
        for name in names:
            wit = sp._type_to_wit(name, t())
            self.assertEqual(sp._type_from_wit(wit), name)
        self.assertIsInstance(sp._type_to_wit("bool", t()), t().DataType_Boolean)
        self.assertIsInstance(sp._type_to_wit("boolean", t()), t().DataType_Boolean)
        dec = sp._type_to_wit("decimal128( 12 , 2 )", t())
        self.assertEqual((dec.value.precision, dec.value.scale), (12, 2))
        self.assertEqual(sp.Field("x", "decimal128(12,2)").decimal, (12, 2))
        self.assertIsNone(sp.Field("x", "utf8").decimal)

    def test_an_unknown_type_fails_open(self):
        class Bad(sp.Plugin):
            def open(self, ctx):
                return [sp.Field("x", "string")]

        kind, message = error_of(lambda: sp._export(Bad, t())().open(context(ONE_INPUT)))
        self.assertEqual(kind, "Failed")
        self.assertIn("unknown column type 'string'", message)


class TestOpen(unittest.TestCase):
    def test_describe(self):
        info = sp._export(Echo, t())().describe()
        self.assertEqual((info.name, info.version, info.description), ("echo", "1.2.3", "copies"))
        self.assertEqual(info.format, t().DataFormat.JSON_LINES)

    def test_context_and_plan_without_reads(self):
        tr = sp._export(Echo, t())()
        plan = tr.open(context(ONE_INPUT, params='{"k": 3}'))
        ctx = Echo.last.ctx
        self.assertEqual((ctx.dataset, ctx.partition), ("silver/out", "date=2025-02-18"))
        self.assertEqual(ctx.params, {"k": 3})
        self.assertEqual(ctx.inputs[0].dataset, "bronze/tx")
        self.assertEqual(ctx.inputs[0].partitions, ["date=2025-02-18"])
        self.assertEqual(ctx.inputs[0].field("amount").type, "decimal128(12,2)")
        self.assertEqual([f.name for f in plan.output], ["id", "amount", "note"])
        self.assertIsInstance(plan.output[1].data_type, t().DataType_Decimal128)
        self.assertEqual(plan.inputs, [], "nothing declared: every input whole and in order")

    def test_read_declares_projection_and_order_per_input(self):
        class Reads(sp.Plugin):
            def open(self, ctx):
                got = ctx.inputs[1].read(columns=["b", "a", "b"], ordered=False)
                self.got = got
                Reads.last = self
                return [("a", "int64", False), {"name": "b", "type": "utf8"}]

        inputs = [
            ("x/one", [("z", "utf8")], ["p1"]),
            ("x/two", [("a", "int64"), ("c", "utf8"), ("b", "utf8")], ["p1", "p2"]),
        ]
        plan = sp._export(Reads, t())().open(context(inputs))
        self.assertEqual([f.name for f in Reads.last.got], ["a", "b"], "in the input's order")
        self.assertEqual(len(plan.inputs), 2)
        self.assertEqual((plan.inputs[0].columns, plan.inputs[0].ordered), (None, True))
        self.assertEqual((plan.inputs[1].columns, plan.inputs[1].ordered), (["b", "a"], False))
        self.assertEqual([(f.name, f.nullable) for f in plan.output], [("a", False), ("b", True)])

    def test_reading_an_unknown_column_is_bad_params(self):
        class Reads(sp.Plugin):
            def open(self, ctx):
                ctx.inputs[0].read(columns=["nope"])
                return []

        kind, message = error_of(lambda: sp._export(Reads, t())().open(context(ONE_INPUT)))
        self.assertEqual(kind, "BadParams")
        self.assertIn("input `bronze/tx` has no column `nope` (it has: id, amount, note)", message)

    def test_open_without_a_schema_fails(self):
        class NoSchema(sp.Plugin):
            def open(self, ctx):
                pass

        kind, message = error_of(lambda: sp._export(NoSchema, t())().open(context(ONE_INPUT)))
        self.assertEqual(kind, "Failed")
        self.assertIn("no output schema", message)

    def test_bad_params_json_is_bad_params(self):
        kind, _ = error_of(lambda: sp._export(Echo, t())().open(context(ONE_INPUT, params="[]")))
        self.assertEqual(kind, "BadParams")


class TestProcess(unittest.TestCase):
    def test_batches_name_their_input_and_partition(self):
        inputs = [("bronze/tx", [("id", "utf8"), ("amount", "decimal128(12,2)")], ["date=2025-02-16", "date=2025-02-17"])]
        tr = sp._export(Echo, t())()
        tr.open(context(inputs))
        out = tr.process(0, 1, lines({"id": "a", "amount": "1.50"}))
        seen = Echo.last.seen
        self.assertEqual(seen[0][:2], (0, "date=2025-02-17"))
        self.assertEqual(seen[0][2][0]["amount"], decimal.Decimal("1.50"))
        self.assertEqual(decode(out), [{"id": "a", "amount": "1.50"}])
        kind, message = error_of(lambda: tr.process(0, 2, b""))
        self.assertEqual(kind, "Failed")
        self.assertIn("reads 2 partitions", message)

    def test_a_raise_names_its_line(self):
        class Raises(Echo):
            def process(self, input, partition, rows):
                raise ValueError("no good")

        tr = sp._export(Raises, t())()
        tr.open(context(ONE_INPUT))
        kind, message = error_of(lambda: tr.process(0, 0, lines({"id": "a"})))
        self.assertEqual(kind, "Failed")
        self.assertRegex(message, r"ValueError: no good \(at test_sdk.py:\d+ in process\)")

    def test_bad_input_and_generators(self):
        class Gen(Echo):
            def process(self, input, partition, rows):
                for row in rows:
                    if row["id"] == "bad":
                        raise sp.BadInput("row `bad`")
                    yield row
                yield [{"id": "extra"}]

        tr = sp._export(Gen, t())()
        tr.open(context(ONE_INPUT))
        self.assertEqual(decode(tr.process(0, 0, lines({"id": "a"}))), [{"id": "a"}, {"id": "extra"}])
        self.assertEqual(error_of(lambda: tr.process(0, 0, lines({"id": "bad"}))), ("BadInput", "row `bad`"))


class Collect(sp.Plugin):
    """Emits `rows` rows from finish, as a list or yielded."""

    mode = "list"
    rows = 5

    def open(self, ctx):
        return [sp.Field("n", "int64", False)]

    def finish(self):
        if self.mode == "list":
            return [{"n": i} for i in range(self.rows)]
        if self.mode == "none":
            return None
        return self.generate()

    def generate(self):
        if self.mode == "rows":
            for i in range(self.rows):
                yield {"n": i}
        elif self.mode == "batches":
            yield []
            yield [{"n": 0}, {"n": 1}]
            yield None
            yield [{"n": 2}]
        elif self.mode == "raise":
            yield {"n": 0}
            raise RuntimeError("late")


def drain(cls):
    """Every finish call's rows, until the empty list."""
    tr = sp._export(cls, t())()
    tr.open(context(ONE_INPUT))
    calls = []
    for _ in range(100):
        chunks = tr.finish()
        if not chunks:
            return calls
        calls.append(decode(chunks))
    raise AssertionError("finish never returned an empty list")


class TestFinish(unittest.TestCase):
    def setUp(self):
        self.chunk = sp.OUTPUT_CHUNK_ROWS
        sp.OUTPUT_CHUNK_ROWS = 2

    def tearDown(self):
        sp.OUTPUT_CHUNK_ROWS = self.chunk

    def kind(self, mode, rows=5):
        return type("C", (Collect,), {"mode": mode, "rows": rows})

    def test_a_list_comes_at_once(self):
        self.assertEqual(drain(self.kind("list")), [[{"n": i} for i in range(5)]])

    def test_nothing(self):
        self.assertEqual(drain(self.kind("none")), [])
        self.assertEqual(drain(self.kind("list", 0)), [])
        self.assertEqual(drain(self.kind("rows", 0)), [])

    def test_yielded_rows_come_a_chunk_per_call(self):
        calls = drain(self.kind("rows"))
        self.assertEqual(calls, [[{"n": 0}, {"n": 1}], [{"n": 2}, {"n": 3}], [{"n": 4}]])

    def test_yielded_lists_come_one_per_call(self):
        self.assertEqual(drain(self.kind("batches")), [[{"n": 0}, {"n": 1}], [{"n": 2}]])

    def test_a_raise_in_the_generator_fails_that_call(self):
        tr = sp._export(self.kind("raise"), t())()
        tr.open(context(ONE_INPUT))
        kind, message = error_of(tr.finish)
        self.assertEqual(kind, "Failed")
        self.assertRegex(message, r"RuntimeError: late \(at test_sdk.py:\d+ in generate\)")

    def test_a_row_that_is_not_a_dict(self):
        class Bad(Collect):
            def finish(self):
                yield {"n": 1}
                yield 3

        tr = sp._export(Bad, t())()
        tr.open(context(ONE_INPUT))
        kind, message = error_of(tr.finish)
        self.assertIn("finish() yielded a int", message)


class TestShippedPlugins(unittest.TestCase):
    """The shipped plugins through the glue: their projections and rows."""

    def plugin(self, folder, module):
        path = os.path.join(PYTHON, folder, module + ".py")
        return load(path, "strata_test_" + module)

    def test_clean_dedupe_reads_what_it_keeps_and_the_key(self):
        m = self.plugin("clean-dedupe", "clean_dedupe")
        inputs = [
            (
                "bronze/tx",
                [("id", "utf8"), ("at", "timestamp-us-utc"), ("name", "utf8"), ("junk", "utf8")],
                ["date=2025-02-18"],
            )
        ]
        params = '{"key": "id", "order_by": "at", "trim": ["name"], "drop_columns": ["junk", "at"]}'
        tr = sp._export(m.CleanDedupe, t())()
        plan = tr.open(context(inputs, params=params))
        self.assertEqual(plan.inputs[0].columns, ["id", "at", "name"])
        self.assertTrue(plan.inputs[0].ordered)
        self.assertEqual([f.name for f in plan.output], ["id", "name"])
        rows = lines(
            {"id": "b", "at": "2025-02-18T01:00:00.000000Z", "name": " old "},
            {"id": "a", "at": "2025-02-18T01:00:00.000000Z", "name": " x "},
            {"id": None, "at": None, "name": "dropped"},
            {"id": "b", "at": "2025-02-18T02:00:00.000000Z", "name": " new "},
        )
        self.assertEqual(tr.process(0, 0, rows), [])
        out = []
        while chunks := tr.finish():
            out += decode(chunks)
        self.assertEqual(out, [{"id": "a", "name": "x"}, {"id": "b", "name": "new"}])

    def test_clean_dedupe_rejects_a_number_for_order_by(self):
        m = self.plugin("clean-dedupe", "clean_dedupe")
        tr = sp._export(m.CleanDedupe, t())()
        kind, message = error_of(lambda: tr.open(context(ONE_INPUT, params='{"key": "id", "order_by": 3}')))
        self.assertEqual((kind, message), ("BadParams", "param `order_by` must be a string, not 3"))

    def test_not_blank_reads_the_column_and_the_key(self):
        m = self.plugin("checks/not-blank", "not_blank")
        tr = sp._export(m.NotBlank, t())()
        plan = tr.open(context(ONE_INPUT, params='{"column": "note", "key": "id"}'))
        self.assertEqual(plan.inputs[0].columns, ["note", "id"])
        out = decode(tr.process(0, 0, lines({"id": "a", "note": " "}, {"id": "b", "note": "ok"})))
        self.assertEqual(out, [{"value": " ", "id": "a"}])
        self.assertEqual(tr.finish(), [])


if __name__ == "__main__":
    unittest.main()
