//! `outdated` and `vendor` on copies of the fixture registry: what a user
//! checks before updating, and a vendored directory that rebuilds the same
//! bundle with nothing but itself.

mod common;

use common::Env;
use warg_depsolve_fixtures::run::call2;

fn meet() -> String {
    common::testdata()
        .join("roots/meet.wat")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn outdated_shows_what_update_would_take_and_the_newest_release() {
    let env = Env::new();
    env.copy_registry("reg");
    env.ok(&["resolve", &meet(), "--registry", "reg"]);
    let lock_before = env.read("meet.lock");

    // Nothing newer yet on the pinned tracks; test:add has 2.0.0 on
    // another track, and test:five's 1.1.0-rc.1 is a pre-release.
    let json = env.json(&["outdated", &meet(), "--registry", "reg"]);
    assert_eq!(json["format"], 1);
    assert_eq!(json["root"], "meet.wat");
    let rows = json["packages"].as_array().unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["package"] == name)
            .unwrap_or_else(|| panic!("{name} in {json}"))
            .clone()
    };
    let add = row("test:add");
    assert_eq!(
        (&add["locked"], &add["compatible"], &add["latest"]),
        (&"1.1.0".into(), &"1.1.0".into(), &"2.0.0".into())
    );
    assert_eq!(add["track"], "1");
    let five = row("test:five");
    assert_eq!(five["latest"], "1.0.0", "a pre-release is not the latest");
    assert_eq!(five["compatible"], "1.0.0");

    // A new release on the pinned track: compatible moves, the pin does
    // not, and nothing is written.
    let add_110 = common::testdata().join("registry/test/add/1.1.0.wasm");
    env.ok(&[
        "publish",
        add_110.to_str().unwrap(),
        "--package",
        "test:add",
        "--version",
        "1.2.0",
        "--registry",
        "reg",
    ]);
    let json = env.json(&["outdated", &meet(), "--registry", "reg"]);
    let add = json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["package"] == "test:add")
        .unwrap()
        .clone();
    assert_eq!(add["locked"], "1.1.0");
    assert_eq!(add["compatible"], "1.2.0");
    assert_eq!(
        env.read("meet.lock"),
        lock_before,
        "outdated writes nothing"
    );
    let text = env.ok(&["outdated", &meet(), "--registry", "reg"]);
    assert!(text.contains("test:add"), "{text}");
    assert!(
        text.contains("1 of 3 pins can move within today's constraints"),
        "{text}"
    );
    assert!(
        text.contains("1 of 3 pins have newer releases that today's constraints do not allow"),
        "{text}"
    );

    // And `update` takes exactly what `outdated` called compatible.
    let updated = env.json(&["update", &meet(), "--registry", "reg"]);
    let chosen = updated["resolution"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["package"] == "test:add")
        .unwrap()["version"]
        .clone();
    assert_eq!(chosen, "1.2.0");

    // No lock file: said, naming it.
    env.fails(
        &[
            "outdated",
            &meet(),
            "--registry",
            "reg",
            "--lock",
            "none.lock",
        ],
        &["none.lock", "resolve"],
    );
}

#[test]
fn a_vendored_directory_rebuilds_the_same_bundle_by_itself() {
    let env = Env::new();
    let registry = common::testdata().join("registry");
    let registry = registry.to_str().unwrap();
    env.ok(&["resolve", &meet(), "--registry", registry]);
    env.ok(&["bundle", &meet(), "--registry", registry, "-o", "meet.wasm"]);

    let json = env.json(&["vendor", &meet(), "--registry", registry, "-o", "vendored"]);
    let packages = json["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 3);
    assert!(packages.iter().all(|p| p["written"] == true), "{json}");
    for (name, version) in [("add", "1.1.0"), ("inc", "1.0.0"), ("five", "1.0.0")] {
        let rel = format!("test/{name}/{version}.wasm");
        assert_eq!(
            env.read(&format!("vendored/{rel}")),
            std::fs::read(common::testdata().join("registry").join(&rel)).unwrap(),
            "{rel}"
        );
    }
    // Only what the resolution uses.
    assert!(!env.exists("vendored/test/add/2.0.0.wasm"));

    // The vendored directory alone (a fresh cache too) gives the same
    // bundle, byte for byte, and it runs.
    let fresh = Env::new();
    std::fs::rename(env.path("vendored"), fresh.path("vendored")).unwrap();
    std::fs::copy(env.path("meet.lock"), fresh.path("meet.lock")).unwrap();
    fresh.ok(&[
        "bundle",
        &meet(),
        "--registry",
        "vendored",
        "--locked",
        "-o",
        "meet.wasm",
    ]);
    assert_eq!(fresh.read("meet.wasm"), env.read("meet.wasm"));
    assert_eq!(call2(&fresh.read("meet.wasm"), "full", 1, 2), 10);

    // Again: nothing to write.
    let again = fresh.json(&["vendor", &meet(), "--registry", registry, "-o", "vendored"]);
    assert!(
        again["packages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["written"] == false),
        "{again}"
    );

    // Other bytes where a release should be: refused, named, untouched.
    let inc = fresh.path("vendored/test/inc/1.0.0.wasm");
    let other = std::fs::read(common::testdata().join("registry/test/low/1.0.0.wasm")).unwrap();
    std::fs::write(&inc, &other).unwrap();
    fresh.fails(
        &["vendor", &meet(), "--registry", registry, "-o", "vendored"],
        &[
            "test:inc@1.0.0",
            "vendored/test/inc/1.0.0.wasm",
            "other bytes",
        ],
    );
    assert_eq!(std::fs::read(&inc).unwrap(), other);

    // Not a directory: said.
    std::fs::write(fresh.path("file"), b"x").unwrap();
    fresh.fails(
        &["vendor", &meet(), "--registry", registry, "-o", "file"],
        &["file", "not a directory"],
    );
}

/// Every subcommand, as `--help` lists them.
fn subcommands(env: &Env) -> Vec<String> {
    let help = env.ok(&["--help"]);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn completion_scripts_know_every_subcommand_and_bash_accepts_its_script() {
    let env = Env::new();
    let commands = subcommands(&env);
    assert!(commands.len() >= 16, "{commands:?}");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = env.ok(&["completions", shell]);
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell}: {command}");
        }
    }
    // bash parses what it is given.
    std::fs::write(
        env.path("completion.bash"),
        env.ok(&["completions", "bash"]),
    )
    .unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(env.path("completion.bash"))
        .output()
        .expect("bash runs");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    env.fails(
        &["completions", "bash", "--format", "json"],
        &["shell script"],
    );
}

#[test]
fn manual_pages_for_the_program_and_each_subcommand() {
    let env = Env::new();
    let page = env.ok(&["man"]);
    assert!(page.contains(".TH warg-depsolve 1"), "{page}");
    for command in subcommands(&env) {
        assert!(page.contains(&command), "{command} in the program's page");
        let sub = env.ok(&["man", &command]);
        assert!(
            sub.contains(&format!(".TH warg-depsolve-{command} 1")),
            "{sub}"
        );
        assert!(
            sub.contains(&format!(
                "\\fBwarg\\-depsolve {}\\fR",
                command.replace('-', "\\-")
            )),
            "synopsis of {command}: {sub}"
        );
    }
    env.fails(&["man", "nope"], &["`nope`", "bundle", "vendor"]);
}
