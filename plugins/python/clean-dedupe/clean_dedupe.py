"""Silver, in Python: cleans string columns, drops rows without a key and
keeps one row per key. The same params and the same output rows as the Rust
plugin `plugins/clean-dedupe`.

Params:
- `key` (required): the key columns. Rows with a null in any of them are
  dropped.
- `order_by`: the row kept per key has the greatest value here (null is the
  smallest); ties, or no `order_by`, keep the row that came later.
- `trim`, `lowercase`, `uppercase`: string columns to trim of surrounding
  whitespace, or to change the case of, before deduplication.
- `drop_columns`: columns left out of the output.

All inputs and batches are one table; the output is sorted by key.
"""

import math

import strata_plugin as sp

# What Rust's `str::trim` removes: the Unicode White_Space characters.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

CLEANINGS = {
    "trim": lambda s: s.strip(WHITE_SPACE),
    "lowercase": str.lower,
    "uppercase": str.upper,
}


def sort_key(value):
    """Orders values the way Arrow sorts a column: null first, floats in
    total order (NaN last, -0 before +0)."""
    if value is None:
        return (0,)
    if isinstance(value, float):
        return (1, math.isnan(value), 0.0 if math.isnan(value) else value, math.copysign(1, value))
    return (1, value)


class CleanDedupe(sp.Plugin):
    name = "clean-dedupe-py"
    version = "1.0.0"
    description = (
        "Trims and normalises string columns, drops rows without a key, "
        "keeps one row per key (Python)"
    )

    def open(self, ctx):
        p = ctx.params
        p.check_known(["key", "order_by", "trim", "lowercase", "uppercase", "drop_columns"])
        self.key = p.list("key")
        if not self.key:
            raise sp.BadParams("missing required param `key` (the key columns)")
        self.order_by = p.get("order_by", "", str).strip() or None
        # Per column, the cleanings in the order they apply.
        self.clean = {}
        for param in ("trim", "lowercase", "uppercase"):
            for column in p.list(param):
                self.clean.setdefault(column, []).append(param)
        for column, cleans in self.clean.items():
            if "lowercase" in cleans and "uppercase" in cleans:
                raise sp.BadParams(f"column `{column}` is in both `lowercase` and `uppercase`")
        self.drop_columns = p.list("drop_columns")

        if not ctx.inputs or not ctx.inputs[0].fields:
            raise sp.PluginError("no input schema: cannot tell the output schema")
        fields = ctx.inputs[0].fields
        self.validate(fields)
        self.cleaners = [
            (column, [CLEANINGS[c] for c in cleans]) for column, cleans in self.clean.items()
        ]
        self.output = [f for f in fields if f.name not in self.drop_columns]
        # Read only what is kept, plus the key and `order_by` (a dropped
        # column is not read unless the deduplication needs it). In order:
        # on ties the later row wins.
        needed = set(self.key) | ({self.order_by} if self.order_by else set())
        ctx.inputs[0].read(
            columns=[f.name for f in fields if f.name not in self.drop_columns or f.name in needed]
        )
        self.best = {}
        self.rows_in = 0
        self.rows_without_key = 0
        return self.output

    def validate(self, fields):
        by_name = {f.name: f for f in fields}

        def find(param, name):
            if name not in by_name:
                names = ", ".join(f.name for f in fields)
                raise sp.BadParams(
                    f"param `{param}` names column `{name}`, which the input does not have (it has: {names})"
                )
            return by_name[name]

        for k in self.key:
            find("key", k)
        if self.order_by is not None:
            find("order_by", self.order_by)
        for column, cleans in self.clean.items():
            field = find(cleans[0], column)
            if field.type != "utf8":
                raise sp.BadParams(
                    f"param `{cleans[0]}` names column `{column}`, which is {field.type}, not a string column"
                )
        for d in self.drop_columns:
            find("drop_columns", d)

    def process(self, input, partition, rows):
        self.rows_in += len(rows)
        best = self.best
        key = self.key
        order_by = self.order_by
        for row in rows:
            for column, cleans in self.cleaners:
                value = row.get(column)
                if value is not None:
                    for clean in cleans:
                        value = clean(value)
                    row[column] = value
            k = tuple(row.get(c) for c in key)
            if None in k:
                self.rows_without_key += 1
                continue
            rank = sort_key(row.get(order_by)) if order_by is not None else ()
            kept = best.get(k)
            # Ties keep the later row.
            if kept is None or rank >= kept[0]:
                best[k] = (rank, row)
        return None

    def finish(self):
        # Yielded: the SDK hands the rows to the host a chunk at a time.
        names = [f.name for f in self.output]
        ordered = sorted(self.best.items(), key=lambda item: tuple(map(sort_key, item[0])))
        for _, (_, row) in ordered:
            yield {n: row.get(n) for n in names}
        sp.log(
            f"{self.rows_in} row(s) in, {self.rows_without_key} without a key dropped, "
            f"{len(ordered)} row(s) out"
        )


Transform = sp.export(CleanDedupe)
