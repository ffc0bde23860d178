//! `--plug PATTERN=PACKAGE[@RANGE]` and the project file's `[plug]`
//! table: an interface import provided by a chosen package, recorded in
//! the lock, bundled and run with the chosen provider's behaviour.

mod common;

use common::Env;
use warg_depsolve_fixtures::run::call2;

/// A copy of the fixture registry with `test:fastadd@1.0.0` published
/// (it exports `test:add/api@1.2.0`, adding 100), and `meet.wat` copied
/// beside the working directory's project file.
fn setup() -> Env {
    let env = Env::new();
    env.copy_registry("reg");
    env.copy("roots/meet.wat", "meet.wat");
    let fastadd = common::testdata().join("plug/fastadd.wat");
    env.ok(&[
        "publish",
        fastadd.to_str().unwrap(),
        "--package",
        "test:fastadd",
        "--version",
        "1.0.0",
        "--registry",
        "reg",
    ]);
    env
}

const PLUG: &str = "test:add/api=test:fastadd";

#[test]
fn a_plugged_provider_is_resolved_locked_bundled_and_runs() {
    let env = setup();
    // Unplugged: test:five takes test:add/api from test:add.
    env.ok(&[
        "bundle",
        "meet.wat",
        "--registry",
        "reg",
        "-o",
        "plain.wasm",
    ]);
    assert_eq!(call2(&env.read("plain.wasm"), "full", 1, 2), 10);

    let json = env.json(&["resolve", "meet.wat", "--registry", "reg", "--plug", PLUG]);
    let packages: Vec<String> = json["resolution"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}@{}",
                p["package"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    // test:inc still imports test:add as a declared dependency.
    assert_eq!(
        packages,
        [
            "test:add@1.1.0",
            "test:fastadd@1.0.0",
            "test:five@1.0.0",
            "test:inc@1.0.0"
        ]
    );
    let lock = String::from_utf8(env.read("meet.lock")).unwrap();
    assert!(
        lock.contains("[[plugs]]\ninterface = \"test:add/api\"\npackage = \"test:fastadd\""),
        "{lock}"
    );
    let why = env.ok(&[
        "why",
        "meet.wat",
        "test:fastadd",
        "--registry",
        "reg",
        "--plug",
        PLUG,
    ]);
    assert!(why.contains("test:five@1.0.0"), "{why}");

    env.ok(&[
        "bundle",
        "meet.wat",
        "--registry",
        "reg",
        "--plug",
        PLUG,
        "--locked",
        "-o",
        "plugged.wasm",
    ]);
    // second(2) = 2 + 5 + 100: the plugged add ran.
    assert_eq!(call2(&env.read("plugged.wasm"), "full", 1, 2), 110);

    // The bill of materials of the plugged bundle says who provides what:
    // test:five's interface import goes to test:fastadd.
    for file in ["meet.wat", "plugged.wasm"] {
        let bom = env.json(&["sbom", file, "--registry", "reg", "--plug", PLUG]);
        let five = bom["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["ref"] == "test:five@1.0.0")
            .unwrap()
            .clone();
        assert_eq!(
            five["dependsOn"],
            serde_json::json!(["test:fastadd@1.0.0"]),
            "{file}"
        );
    }

    // The lock records the plug: without it, --locked says what changed.
    env.fails(
        &[
            "bundle",
            "meet.wat",
            "--registry",
            "reg",
            "--locked",
            "-o",
            "x.wasm",
        ],
        &["plug test:add/api=test:fastadd removed"],
    );
    assert!(!env.exists("x.wasm"));

    // The project file beside the root keeps the plug for every command.
    std::fs::write(
        env.path("warg-depsolve.toml"),
        "[plug]\n\"test:add/api\" = \"test:fastadd\"\n",
    )
    .unwrap();
    env.ok(&[
        "bundle",
        "meet.wat",
        "--registry",
        "reg",
        "--locked",
        "-o",
        "project.wasm",
    ]);
    assert_eq!(env.read("project.wasm"), env.read("plugged.wasm"));
}

#[test]
fn a_plug_that_cannot_provide_the_interface_names_both() {
    let env = setup();
    // test:inc exports no test:add/api.
    env.fails(
        &[
            "resolve",
            "meet.wat",
            "--registry",
            "reg",
            "--plug",
            "test:add/api=test:inc",
        ],
        &[
            "test:add/api=test:inc",
            "test:inc",
            "test:add/api@1.0.0",
            "test:five@1.0.0",
        ],
    );
    // test:fastadd has no release in ^2.
    env.fails(
        &[
            "resolve",
            "meet.wat",
            "--registry",
            "reg",
            "--plug",
            "test:add/api=test:fastadd@^2",
        ],
        &["test:add/api=test:fastadd@^2", "in its range"],
    );
    // A package the registry does not have.
    env.fails(
        &[
            "resolve",
            "meet.wat",
            "--registry",
            "reg",
            "--plug",
            "test:add/*=test:nowhere",
        ],
        &["test:nowhere"],
    );
    // Not a plug at all: the command line is wrong (status 2).
    let out = env.run(&[
        "resolve",
        "meet.wat",
        "--registry",
        "reg",
        "--plug",
        "test:add/api",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PATTERN=PACKAGE"));
    // A project file with a key it cannot use: named, with the file.
    std::fs::write(
        env.path("warg-depsolve.toml"),
        "[plug]\n\"test:add/api\" = 3\n",
    )
    .unwrap();
    env.fails(
        &["resolve", "meet.wat", "--registry", "reg"],
        &["warg-depsolve.toml", "plug.\"test:add/api\""],
    );
    std::fs::write(env.path("warg-depsolve.toml"), "[plugs]\n").unwrap();
    env.fails(
        &["resolve", "meet.wat", "--registry", "reg"],
        &["warg-depsolve.toml", "unknown key"],
    );
}
