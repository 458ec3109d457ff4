"""A check plugin in Python: its output rows are the violations, so zero
rows pass. It reports the rows whose string `column` is null, empty or only
whitespace.

Params:
- `column` (required): a string column.
- `key`: a column copied into each violation so it names its row (default:
  none).

In pipeline.toml:

    [[datasets.checks]]
    check = "plugin"
    plugin = "plugins/check_not_blank_py.wasm"
    params = { column = "merchant", key = "id" }
"""

import strata_plugin as sp


class NotBlank(sp.Plugin):
    name = "check-not-blank-py"
    version = "1.0.0"
    description = "A check: rows whose string column is null, empty or blank are violations"

    def open(self, ctx):
        self.column = ctx.params.get("column", None, str)
        if not self.column:
            raise sp.BadParams("param `column` is required: the string column to check")
        self.key = ctx.params.get("key", None, str)
        # Only the checked column and the key are read.
        ctx.inputs[0].read(columns=[self.column] + ([self.key] if self.key else []))
        fields = [sp.Field("value", "utf8", True)]
        if self.key:
            fields.insert(0, sp.Field(self.key, "utf8", True))
        return fields

    def process(self, input, partition, rows):
        out = []
        for row in rows:
            value = row.get(self.column)
            if value is None or str(value).strip() == "":
                violation = {"value": value}
                if self.key:
                    key = row.get(self.key)
                    violation[self.key] = None if key is None else str(key)
                out.append(violation)
        return out


Transform = sp.export(NotBlank)
