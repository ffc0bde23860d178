//! `sbom`: CycloneDX 1.6 and SPDX 2.3 documents for a root with its lock,
//! its locked form and its bundle, each valid against the standard's own
//! schema (committed under `testdata/schemas/`), each naming the same
//! releases with the registry's digests and the same graph.

mod common;

use std::path::Path;

use common::Env;
use serde_json::Value;

fn schema(rel: &str) -> Value {
    let path = common::testdata().join("schemas").join(rel);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Fails with every schema error when `document` is not valid.
fn assert_valid(validator: &jsonschema::Validator, document: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

fn cyclonedx_validator() -> jsonschema::Validator {
    let resource = |rel: &str| jsonschema::Resource::from_contents(schema(rel)).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .with_resource(
            "http://cyclonedx.org/schema/spdx.schema.json",
            resource("cyclonedx/spdx.schema.json"),
        )
        .with_resource(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            resource("cyclonedx/jsf-0.82.schema.json"),
        )
        .build(&schema("cyclonedx/bom-1.6.schema.json"))
        .expect("the CycloneDX schema loads")
}

fn spdx_validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema("spdx/spdx-schema-2.3.json"))
        .expect("the SPDX schema loads")
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn sbom_of_a_root_its_locked_form_and_its_bundle_are_valid_and_agree() {
    let env = Env::new();
    let registry = common::testdata().join("registry");
    let reg = registry.to_str().unwrap();
    env.copy("roots/meet.wat", "meet.wat");
    env.ok(&["resolve", "meet.wat", "--registry", reg]);
    env.ok(&[
        "lock",
        "meet.wat",
        "--registry",
        reg,
        "-o",
        "meet.locked.wasm",
    ]);
    env.ok(&[
        "bundle",
        "meet.wat",
        "--registry",
        reg,
        "-o",
        "meet.bundle.wasm",
    ]);

    let cyclonedx = cyclonedx_validator();
    let spdx = spdx_validator();
    let mut graphs = Vec::new();
    for file in ["meet.wat", "meet.locked.wasm", "meet.bundle.wasm"] {
        let bom = env.json(&["sbom", file, "--registry", reg]);
        assert_valid(&cyclonedx, &bom, file);
        // `--format cyclonedx` is the same document; so is a second run.
        let text = env.ok(&["sbom", file, "--registry", reg, "--format", "cyclonedx"]);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), bom);
        assert_eq!(
            env.ok(&["sbom", file, "--registry", reg]),
            text,
            "deterministic"
        );

        // The validator does reject what the standard does not allow.
        let mut broken = bom.clone();
        broken["components"][0]["hashes"][0]["alg"] = "SHA256".into();
        assert!(!cyclonedx.is_valid(&broken), "an unknown hash algorithm");
        assert_eq!(bom["specVersion"], "1.6");
        assert_eq!(bom["metadata"]["component"]["name"], file);
        let components = bom["components"].as_array().unwrap();
        let mut listed: Vec<String> = Vec::new();
        for c in components {
            let (group, name, version) = (
                c["group"].as_str().unwrap(),
                c["name"].as_str().unwrap(),
                c["version"].as_str().unwrap(),
            );
            // The registry's bytes, by their SHA-256.
            let release = registry.join(format!("{group}/{name}/{version}.wasm"));
            assert_eq!(c["hashes"][0]["alg"], "SHA-256");
            assert_eq!(
                c["hashes"][0]["content"],
                sha256_hex(&release),
                "{file}: {release:?}"
            );
            assert_eq!(c["properties"][0]["value"], "local");
            listed.push(format!("{group}:{name}@{version}"));
        }
        assert_eq!(
            listed,
            ["test:add@1.1.0", "test:five@1.0.0", "test:inc@1.0.0"]
        );
        let graph: Vec<(String, Vec<String>)> = bom["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let r = d["ref"].as_str().unwrap();
                let on = d["dependsOn"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect();
                // The root's name differs per file; the rest must agree.
                (
                    if r == file {
                        "ROOT".into()
                    } else {
                        r.to_string()
                    },
                    on,
                )
            })
            .collect();
        graphs.push(graph);

        let document: Value =
            serde_json::from_str(&env.ok(&["sbom", file, "--registry", reg, "--format", "spdx"]))
                .unwrap();
        assert_valid(&spdx, &document, &format!("{file} (SPDX)"));
        let mut broken = document.clone();
        broken["relationships"][0]["relationshipType"] = "USES".into();
        assert!(!spdx.is_valid(&broken), "an unknown relationship type");
        assert_eq!(document["spdxVersion"], "SPDX-2.3");
        assert_eq!(document["packages"].as_array().unwrap().len(), 4);
        let depends = document["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["relationshipType"] == "DEPENDS_ON")
            .count();
        assert_eq!(
            depends, 4,
            "{file}: meet -> inc, five; inc -> add; five -> add"
        );
    }
    assert_eq!(graphs[0], graphs[1]);
    assert_eq!(graphs[0], graphs[2]);
    assert_eq!(
        graphs[0],
        [
            (
                "ROOT".to_string(),
                vec!["test:five@1.0.0".to_string(), "test:inc@1.0.0".to_string()]
            ),
            ("test:add@1.1.0".to_string(), vec![]),
            (
                "test:five@1.0.0".to_string(),
                vec!["test:add@1.1.0".to_string()]
            ),
            (
                "test:inc@1.0.0".to_string(),
                vec!["test:add@1.1.0".to_string()]
            ),
        ]
    );

    // The bundle needs no registry at all: offline, with an empty cache.
    let fresh = Env::new();
    std::fs::copy(env.path("meet.bundle.wasm"), fresh.path("b.wasm")).unwrap();
    let empty = fresh.path("empty-registry");
    std::fs::create_dir(&empty).unwrap();
    let bom = fresh.json(&[
        "sbom",
        "b.wasm",
        "--registry",
        empty.to_str().unwrap(),
        "--offline",
    ]);
    assert_eq!(bom["components"].as_array().unwrap().len(), 3);

    // Other commands refuse the SBOM formats.
    env.fails(
        &["tree", "meet.wat", "--registry", reg, "--format", "spdx"],
        &["--format spdx applies to `sbom` only"],
    );
    // Not a component: named.
    std::fs::write(env.path("junk.wasm"), b"\0asm junk").unwrap();
    env.fails(&["sbom", "junk.wasm", "--registry", reg], &["junk.wasm"]);
}
