//! An installed host is enough: `cargo install` it, hide the checkout, and
//! from an empty folder make a pipeline, run it, and scaffold, build and
//! test a plugin in each language.
//!
//! The checkout is hidden, not trusted to be unused: every command after
//! the install runs in a mount namespace (`unshare --mount`, which needs
//! root) where each entry of the repository is covered by an empty tmpfs
//! (a file by /dev/null). Only `target/` stays visible, for its build cache
//! (the Rust scaffold compiles Arrow into `target/wasm-plugins` rather than
//! again from nothing); nothing of the source tree is reachable.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::polyglot::polyglot;
use crate::util::RunSummary;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// The root workspace's target directory (where `cargo test` built).
fn target_dir() -> PathBuf {
    Path::new(strata_test_plugins::DIR)
        .ancestors()
        .nth(2)
        .unwrap()
        .to_owned()
}

/// A command that runs with the checkout hidden (see the module doc).
fn hidden(program: &Path, args: &[&str], cwd: &Path) -> Command {
    let repo = repo();
    let mut script = String::from("set -e\n");
    for entry in std::fs::read_dir(&repo).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let path = entry.path();
        let path = path.to_str().unwrap();
        if entry.file_type().unwrap().is_dir() {
            script += &format!("mount -t tmpfs -o size=1m strata-hidden '{path}'\n");
        } else {
            script += &format!("mount --bind /dev/null '{path}'\n");
        }
    }
    script += "exec \"$@\"\n";
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(script)
        .arg("sh")
        .arg(program)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("STRATA_CONFIG")
        .env_remove("STRATA_JS_TOOLCHAIN");
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output, what: &str) -> Output {
    assert!(out.status.success(), "{what}: {}", text(&out));
    out
}

/// Whether this machine can hide the checkout; under CI it must.
fn can_hide() -> bool {
    let works = Command::new("unshare")
        .args(["--mount", "--", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !works {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI must run tests/install.rs, but `unshare --mount` fails (it needs root)");
        }
        let bar = "!".repeat(78);
        let _ = writeln!(
            std::io::stderr(),
            "\n{bar}\nSKIPPED: an installed host without its checkout: `unshare --mount` \
             fails here (it needs root)\n{bar}\n"
        );
    }
    works
}

#[test]
fn an_installed_host_makes_runs_and_extends_a_pipeline_without_its_checkout() {
    if !can_hide() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let install = root.path().join("install");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // --debug: the build `cargo test` just made, reused (a release build
    // would compile everything again).
    ok(
        Command::new(cargo)
            .args(["install", "--debug", "--locked", "--path"])
            .arg(repo().join("host"))
            .arg("--root")
            .arg(&install)
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .unwrap(),
        "cargo install",
    );
    let host = install.join("bin/host");
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();

    // The checkout really is out of reach.
    let out = hidden(
        Path::new("cat"),
        &[repo().join("wit/strata.wit").to_str().unwrap()],
        &work,
    )
    .output()
    .unwrap();
    assert!(!out.status.success(), "the WIT is readable: {}", text(&out));

    // host init, then every layer computes.
    ok(
        hidden(&host, &["init", "demo"], &work).output().unwrap(),
        "init",
    );
    let run = RunSummary::of(
        hidden(
            &host,
            &["--config", "demo/pipeline.toml", "run", "--json"],
            &work,
        )
        .output()
        .unwrap(),
    );
    run.assert_ok();
    for dataset in [
        "raw/orders",
        "bronze/orders",
        "silver/orders",
        "gold/daily_revenue",
        "gold/customers_7d",
    ] {
        let days: Vec<String> = (1..=7).map(|d| format!("date=2025-03-{d:02}")).collect();
        assert_eq!(run.computed(dataset), days, "{dataset}: {}", run.json);
    }
    // Bronze has every record of the sample (4, 5 or 6 orders a day, one
    // of them sent twice, and a row without an id); silver one row per order.
    let rows = |dataset: &str| -> u64 {
        let dir = work.join("demo/store").join(dataset);
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("date=")
            })
            .map(|p| {
                let text = std::fs::read_to_string(p.join("_manifest.json")).unwrap();
                let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
                manifest["rows"].as_u64().unwrap()
            })
            .sum()
    };
    let orders = 4 + 5 + 6 + 4 + 5 + 6 + 4;
    assert_eq!(rows("bronze/orders"), orders + 7 * 2, "{}", run.json);
    assert_eq!(rows("silver/orders"), orders, "{}", run.json);

    // A plugin in each language, from the scaffold to its sample test.
    for (lang, needs) in [
        ("rust", None),
        ("python", Some("clean_dedupe_py")),
        ("js", Some("aggregate_js")),
    ] {
        if needs.is_some_and(|toolchain_proof| polyglot(toolchain_proof).is_none()) {
            continue;
        }
        let name = format!("my-{lang}");
        ok(
            hidden(&host, &["plugin", "new", &name, "--lang", lang], &work)
                .output()
                .unwrap(),
            "plugin new",
        );
        let project = work.join(&name);
        if lang == "js" {
            // The scaffold's own toolchain, from npm's cache (no network).
            ok(
                hidden(
                    Path::new("npm"),
                    &["ci", "--offline", "--no-audit", "--no-fund"],
                    &project,
                )
                .output()
                .unwrap(),
                "npm ci",
            );
        }
        let mut build = hidden(&host, &["plugin", "build", &name], &work);
        build
            .env("CARGO_TARGET_DIR", target_dir().join("wasm-plugins"))
            .env("CARGO_NET_OFFLINE", "true");
        ok(build.output().unwrap(), &format!("plugin build ({lang})"));
        let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
        let line = readme
            .lines()
            .find(|l| l.starts_with("host plugin test"))
            .unwrap_or_else(|| panic!("no test command in the README:\n{readme}"));
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = ok(
            hidden(&host, &args, &project).output().unwrap(),
            &format!("{line} ({lang})"),
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("ok: the output is the rows of"),
            "{}",
            text(&out)
        );
    }
}
