//! Misbehaviour the runtime contains and names (panics, traps, loops,
//! memory and output bombs, malformed output, plugin errors) and what the
//! sandbox lets a plugin see. One module per test plugin.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{BinaryArray, RecordBatch, StringArray};
use strata_runtime::{Limits, LoadError, RunError, schema};

use super::{
    concat, default_limits, fails, good_plugin_still_runs, load, raw, run, run_with, runtime,
    strings,
};
use crate::util::plugin;

/// A raw batch of `files` bodies of `size` bytes each, every byte distinct
/// by position so a reordering or truncation shows.
fn large_raw(files: usize, size: usize) -> RecordBatch {
    let bodies: Vec<Vec<u8>> = (0..files)
        .map(|f| (0..size).map(|i| ((i * 31 + f * 7) % 251) as u8).collect())
        .collect();
    let names: Vec<String> = (0..files).map(|f| format!("page-{f}.json")).collect();
    RecordBatch::try_new(
        schema::raw_schema(),
        vec![
            Arc::new(StringArray::from_iter_values(&names)),
            Arc::new(BinaryArray::from_iter_values(&bodies)),
        ],
    )
    .unwrap()
}

fn observed(name: &str) -> Vec<String> {
    let out = run(name, &[], vec![raw(&[("f", "x")])]).unwrap();
    strings(&concat(&out), "observed")
        .into_iter()
        .map(Option::unwrap)
        .collect()
}

pub(super) mod test_panic {
    use super::*;

    #[test]
    fn a_panic_is_reported_with_its_message() {
        let err = fails("test_panic", &default_limits());
        assert!(
            matches!(&err, RunError::Panic { message } if message.contains("boom: plugin panicked on purpose")),
            "{err:?}"
        );
    }
}

pub(super) mod test_unreachable {
    use super::*;

    #[test]
    fn a_trap_is_reported() {
        let err = fails("test_unreachable", &default_limits());
        assert!(
            matches!(&err, RunError::Trap { message, .. } if message.contains("unreachable")),
            "{err:?}"
        );
    }
}

pub(super) mod test_loop {
    use super::*;

    #[test]
    fn an_endless_loop_times_out() {
        let limits = Limits {
            timeout: Duration::from_millis(500),
            ..default_limits()
        };
        let err = fails("test_loop", &limits);
        assert!(
            matches!(err, RunError::Timeout(t) if t == Duration::from_millis(500)),
            "{err:?}"
        );
    }
}

pub(super) mod test_alloc {
    use super::*;

    #[test]
    fn a_memory_bomb_hits_the_memory_limit() {
        let limits = Limits {
            memory_bytes: 64 << 20,
            ..default_limits()
        };
        let err = fails("test_alloc", &limits);
        assert!(
            matches!(err, RunError::MemoryLimit(l) if l == 64 << 20),
            "{err:?}"
        );
        assert!(err.to_string().contains("64 MiB"), "{err}");
    }
}

pub(super) mod test_stack_overflow {
    use super::*;

    #[test]
    fn a_stack_overflow_is_contained() {
        let err = fails("test_stack_overflow", &default_limits());
        assert!(matches!(err, RunError::StackOverflow), "{err:?}");
    }
}

pub(super) mod test_malformed_ipc {
    use super::*;

    #[test]
    fn malformed_output_is_rejected() {
        let err = fails("test_malformed_ipc", &default_limits());
        assert!(matches!(err, RunError::Malformed(_)), "{err:?}");
    }
}

pub(super) mod test_schema_change {
    use super::*;

    #[test]
    fn a_schema_change_mid_stream_is_rejected() {
        let err = fails("test_schema_change", &default_limits());
        assert!(matches!(err, RunError::SchemaChanged { .. }), "{err:?}");
    }
}

pub(super) mod test_bad_params {
    use super::*;

    #[test]
    fn a_plugin_error_is_not_a_trap() {
        let err = fails("test_bad_params", &default_limits());
        assert!(matches!(err, RunError::BadParams(_)), "{err:?}");
    }
}

pub(super) mod test_passthrough {
    use super::*;

    #[test]
    /// wasmtime copies at most 128 MiB out of a guest per call unless told
    /// otherwise; a partition's output is bounded by its own limit instead.
    fn one_call_may_return_more_than_128_mib() {
        let input = large_raw(5, 32 << 20);
        let out = run("test_passthrough", &[], vec![input.clone()]).unwrap();
        assert_eq!(concat(&out), input);
    }

    #[test]
    fn output_over_the_limit_fails_the_partition_naming_the_limit() {
        let limits = Limits {
            output_bytes: 2 << 20,
            ..default_limits()
        };
        // 8 MiB in one batch: more than the limit plus a call's allowance, so the
        // copy out of the guest itself is refused.
        let err = run_with(
            "test_passthrough",
            &[],
            vec![large_raw(2, 4 << 20)],
            &limits,
        )
        .expect_err("output over the limit");
        assert!(
            matches!(err, RunError::OutputLimit(l) if l == 2 << 20),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "plugin output exceeded the limit of 2 MiB");
        // Just over the limit but within one call's allowance: refused by the
        // running total instead, with the same error.
        let err = run_with(
            "test_passthrough",
            &[],
            vec![large_raw(1, (2 << 20) + 4096)],
            &limits,
        )
        .expect_err("output over the limit");
        assert!(
            matches!(err, RunError::OutputLimit(l) if l == 2 << 20),
            "{err:?}"
        );
        good_plugin_still_runs();
    }
}

pub(super) mod test_stderr_flood {
    use super::*;

    #[test]
    fn flooding_stderr_is_bounded_and_not_fatal() {
        let limits = Limits {
            capture_bytes: 4096,
            ..default_limits()
        };
        let out = run_with("test_stderr_flood", &[], vec![raw(&[("f", "x")])], &limits).unwrap();
        assert_eq!(concat(&out).num_rows(), 1);
    }
}

pub(super) mod test_net {
    use super::*;

    #[test]
    fn network_imports_are_refused_at_load() {
        let err = runtime()
            .load(&plugin("test_net"))
            .err()
            .expect("a plugin importing sockets must not load");
        assert!(
            matches!(&err, LoadError::Refused { imports, .. } if imports.iter().any(|i| i.starts_with("wasi:sockets/"))),
            "{err}"
        );
        assert!(err.to_string().contains("wasi:sockets"), "{err}");
        good_plugin_still_runs();
    }
}

pub(super) mod test_read_file {
    use super::*;

    #[test]
    fn the_sandbox_shows_no_files() {
        let rows = observed("test_read_file");
        assert!(!rows.is_empty());
        for row in &rows {
            assert!(row.contains("error"), "a plugin saw something: {row}");
            assert!(!row.contains("root:"), "a plugin read /etc/passwd: {row}");
        }
    }
}

pub(super) mod test_read_env {
    use super::*;

    #[test]
    fn the_sandbox_shows_no_environment() {
        // The test process has PATH, HOME, CARGO_* and more; the plugin sees none.
        assert!(std::env::var_os("PATH").is_some());
        let rows = observed("test_read_env");
        assert!(
            rows.iter()
                .all(|r| !r.contains("PATH") && !r.contains("CARGO")),
            "{rows:?}"
        );
        assert!(
            rows.iter().all(|r| !r.contains('=')),
            "the plugin saw variables: {rows:?}"
        );
    }
}

pub(super) mod test_clock {
    use super::*;

    #[test]
    fn the_clock_is_fixed_and_randomness_seeded() {
        let first = observed("test_clock");
        assert!(first.contains(&"now_unix_secs=0".to_owned()), "{first:?}");
        assert_eq!(
            observed("test_clock"),
            first,
            "randomness differs between runs"
        );
    }
}

pub(super) mod test_passthrough_alter {
    use super::*;

    #[test]
    fn the_alter_build_drops_a_row_only_on_the_partitions_it_is_told() {
        let input = raw(&[("a", "1"), ("b", "2"), ("c", "3")]);
        // The context's partition is date=2025-02-18.
        let altered = run(
            "test_passthrough_alter",
            &[("alter_partitions", "date=2025-02-18")],
            vec![input.clone()],
        )
        .unwrap();
        assert_eq!(concat(&altered), input.slice(0, 2));
        let untouched = run(
            "test_passthrough_alter",
            &[("alter_partitions", "date=2025-02-17")],
            vec![input.clone()],
        )
        .unwrap();
        assert_eq!(concat(&untouched), input);
        // The plain build takes the same params and never alters.
        let plain = run(
            "test_passthrough",
            &[("alter_partitions", "date=2025-02-18")],
            vec![input.clone()],
        )
        .unwrap();
        assert_eq!(concat(&plain), input);
        assert_eq!(load("test_passthrough_alter").info.version, "0.1.0+alter");
    }
}

pub(super) mod test_slow {
    use super::*;

    #[test]
    fn copies_its_input_and_spins_only_on_the_partitions_it_is_told() {
        let input = raw(&[("a", "1"), ("b", "2")]);
        // The context's partition is date=2025-02-18.
        let fast = run(
            "test_slow",
            &[("slow_partition", "date=2025-02-17")],
            vec![input.clone()],
        )
        .unwrap();
        assert_eq!(concat(&fast), input);
        // Told to spin for longer than its time limit: the limit stops it.
        let limits = Limits {
            timeout: std::time::Duration::from_millis(300),
            ..default_limits()
        };
        let err = run_with(
            "test_slow",
            &[
                ("slow_partition", "date=2025-02-18"),
                ("spin", "1000000000000000"),
            ],
            vec![input.clone()],
            &limits,
        )
        .expect_err("spins past the limit");
        assert!(matches!(err, RunError::Timeout(_)), "{err:?}");
        let err = run(
            "test_slow",
            &[("slow_partition", "date=2025-02-18"), ("spin", "soon")],
            vec![input],
        )
        .expect_err("a spin that is not a count");
        assert!(matches!(err, RunError::BadParams(_)), "{err:?}");
    }
}
