//! The Python and JavaScript test plugins in the runtime itself (their
//! pipelines are in tests/polyglot.rs). Each test is skipped, loudly, when
//! the plugin's toolchain was missing at build time, and fails in CI.

use super::{bronze, concat, good_plugin_still_runs, raw, run};
use crate::polyglot::polyglot;
use strata_runtime::RunError;

/// A plugin error of a Python or JavaScript plugin in `open` is its own
/// error, not a trap, with the author's message.
fn rejects_its_params(name: &str) {
    if polyglot(name).is_none() {
        return;
    }
    let err = run(name, &[("mode", "bad-params")], vec![raw(&[("f", "x")])])
        .expect_err("mode bad-params fails open");
    assert!(
        matches!(&err, RunError::BadParams(m) if m.contains("param `mode` is bad on purpose")),
        "{err:?}"
    );
    good_plugin_still_runs();
}

pub(super) mod test_misbehave_py {
    use super::*;

    #[test]
    fn bad_params_from_python_are_a_plugin_error_not_a_trap() {
        rejects_its_params("test_misbehave_py");
    }
}

pub(super) mod test_misbehave_js {
    use super::*;

    #[test]
    fn bad_params_from_javascript_are_a_plugin_error_not_a_trap() {
        rejects_its_params("test_misbehave_js");
    }
}

pub(super) mod test_arrow_passthrough_js {
    use super::*;

    #[test]
    fn decimals_timestamps_and_nulls_survive_apache_arrow_unchanged() {
        if polyglot("test_arrow_passthrough_js").is_none() {
            return;
        }
        let input = bronze();
        let out = run("test_arrow_passthrough_js", &[], vec![input.clone()]).unwrap();
        assert_eq!(concat(&out), input);
    }
}
