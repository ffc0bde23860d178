//! Registry configuration text (wkg's `config.toml` shape): parsing never
//! panics, every error names the file, and a configuration that parses
//! answers which registry serves a package.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warg_depsolve_fuzz::text;
use warg_depsolve_registry::config::Config;

/// The name errors must carry.
const PATH: &str = "fuzz/config.toml";

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    match Config::from_toml(text, PATH) {
        Ok(config) => {
            for name in ["test:add", "wasi:io", "a:b"] {
                let package = name.parse().expect("a valid package name");
                if let Some((registry, rule)) = config.registry_for(&package) {
                    assert!(!registry.is_empty() && !rule.is_empty());
                }
            }
            for package in config.package_registry_overrides.keys() {
                assert!(config.registry_for(package).is_some());
            }
        }
        Err(e) => assert!(e.to_string().contains(PATH), "{e}"),
    }
});
