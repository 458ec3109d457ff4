//! `host completions SHELL` and `host man`: generated from the command
//! line's definition, so they name every subcommand `host help` lists.

use std::process::Command;

fn host(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_host"))
        .args(args)
        .env_remove("STRATA_CONFIG")
        .output()
        .expect("running host");
    assert!(
        out.status.success(),
        "host {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The subcommands as `host help` lists them (but `help` itself).
fn subcommands() -> Vec<String> {
    let help = host(&["help"]);
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    for expected in ["run", "status", "plugin", "schema", "completions", "man"] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
    names
}

#[test]
fn completion_scripts_name_every_subcommand() {
    let names = subcommands();
    let bash = host(&["completions", "bash"]);
    assert!(bash.contains("complete -F _host"), "{bash}");
    for name in &names {
        assert!(
            bash.contains(&format!("host__subcmd__{name}"))
                || bash.contains(&format!("host,{name}")),
            "bash completion lacks `{name}`"
        );
    }
    // And the plugin subcommands' own subcommands, and a global flag.
    assert!(bash.contains("new"), "plugin new");
    assert!(bash.contains("--config"));
    let zsh = host(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef host"), "{zsh}");
    let fish = host(&["completions", "fish"]);
    for name in &names {
        assert!(
            zsh.contains(&format!("'{name}:")),
            "zsh completion lacks `{name}`"
        );
        assert!(
            fish.contains(&format!("-a \"{name}\"")),
            "fish completion lacks `{name}`"
        );
    }
}

/// The page's first request after clap_mangen's two-line preamble (`.ie
/// \n(.g .ds Aq \(aq` / `.el .ds Aq '`, which picks the apostrophe glyph
/// for groff or other roffs): `.TH`, the title.
fn title_line(page: &str) -> &str {
    page.lines()
        .find(|l| !(l.starts_with(".ie ") || l.starts_with(".el ")))
        .unwrap_or_default()
}

#[test]
fn the_man_page_is_roff_naming_every_subcommand() {
    let names = subcommands();
    let page = host(&["man"]);
    assert!(
        title_line(&page).starts_with(".TH host 1"),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for name in &names {
        assert!(
            page.contains(&format!("host\\-{name}(1)")),
            "man page lacks `{name}`"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    host(&["man", "--dir", out.to_str().unwrap()]);
    for name in names
        .iter()
        .map(|n| format!("host-{n}"))
        .chain(["host".into(), "host-plugin-new".into()])
    {
        let page = std::fs::read_to_string(out.join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"));
        assert!(
            title_line(&page).starts_with(&format!(".TH {name} 1")),
            "{name}.1: {page}"
        );
    }
}
