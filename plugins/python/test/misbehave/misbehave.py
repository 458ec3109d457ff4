"""A Python plugin that fails on purpose, for the host's tests.

Param `mode`:
- `raise` (default): `process` raises ValueError("python plugin failed on purpose").
- `bad-line`: declares `n: int64` and emits three rows; the third has
  `n = "three"`, which is not an int64.
- `bad-params`: `open` raises BadParams.
"""

import strata_plugin as sp


class Misbehave(sp.Plugin):
    name = "test-misbehave-py"
    version = "0.1.0"
    description = "Fails on purpose (mode: raise, bad-line, bad-params)"

    def open(self, ctx):
        self.mode = ctx.params.get("mode", "raise", str)
        if self.mode == "bad-params":
            raise sp.BadParams("param `mode` is bad on purpose")
        return [sp.Field("n", "int64", False)]

    def process(self, input, partition, rows):
        if self.mode == "raise":
            raise ValueError("python plugin failed on purpose")
        return None

    def finish(self):
        if self.mode == "raise":
            raise ValueError("python plugin failed on purpose")
        return [{"n": 1}, {"n": 2}, {"n": "three"}]


Transform = sp.export(Misbehave)
