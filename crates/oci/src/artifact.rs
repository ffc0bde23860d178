//! The Wasm OCI artifact: its config blob, written and read.
//!
//! A release is one OCI image manifest, tagged with the version, whose
//! config has media type [`CONFIG_MEDIA_TYPE`] and whose one layer, media
//! type [`LAYER_MEDIA_TYPE`], is the component's bytes: the CNCF Wasm OCI
//! artifact layout that wkg (through oci-wasm) writes and reads.
//!
//! The config is oci-wasm's `WasmConfig` JSON (`created`, `architecture`,
//! `os`, `layerDigests`, `component: { exports, imports, target }`) plus
//! one field of ours, `wargDepsolve`: the release's registry dependencies
//! (import name, kind, reference) and interface exports, as scanned from the
//! bytes at publish time. A reader that finds it, and finds that the
//! config's `layerDigests` names the manifest's layer, has the release's
//! metadata without downloading the layer; any other config (wkg's, which
//! lists import *names* but not their `external-id` dependency references)
//! means the layer is downloaded and scanned once. oci-wasm and wkg ignore
//! unknown config fields, so the artifact stays theirs to read.
//!
//! `created` is fixed at the Unix epoch, so the same bytes always make the
//! same config and manifest (the reproducible-builds convention).

use serde::{Deserialize, Serialize};
use warg_depsolve_names::scan::scan;
use warg_depsolve_names::{Integrity, InterfaceName};
use warg_depsolve_registry::{Dependency, DependencyRecord, ReleaseMetadata};

/// The config media type of a Wasm OCI artifact.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The media type of the layer holding the component.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The version of our `wargDepsolve` config record.
const RECORD_FORMAT: u32 = 1;

/// oci-wasm's `WasmConfig`, with our record.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WasmConfig {
    created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    architecture: String,
    os: String,
    #[serde(default)]
    layer_digests: Vec<String>,
    #[serde(default)]
    component: Option<ComponentInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warg_depsolve: Option<Record>,
}

/// oci-wasm's `Component`: the component's import and export names.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct ComponentInfo {
    exports: Vec<String>,
    imports: Vec<String>,
    target: Option<String>,
}

/// What we record about the bytes.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Record {
    format: u32,
    dependencies: Vec<DependencyRecord>,
    interface_exports: Vec<String>,
}

/// The config blob for a release whose scanned metadata is `meta` and whose
/// bytes are `bytes` (already known to scan).
pub(crate) fn config_for(meta: &ReleaseMetadata, bytes: &[u8]) -> Vec<u8> {
    let (imports, exports) = match scan(bytes) {
        Ok(s) => (
            s.imports
                .iter()
                .map(|i| i.name.full_name().into_owned())
                .collect(),
            s.exports
                .iter()
                .map(|e| e.name.full_name().into_owned())
                .collect(),
        ),
        Err(_) => (Vec::new(), Vec::new()),
    };
    let dependencies = meta
        .dependencies
        .iter()
        .filter_map(DependencyRecord::of)
        .collect();
    let config = WasmConfig {
        created: "1970-01-01T00:00:00Z".into(),
        author: None,
        architecture: "wasm".into(),
        os: "wasip2".into(),
        layer_digests: vec![meta.digest.to_oci()],
        component: Some(ComponentInfo {
            exports,
            imports,
            target: None,
        }),
        warg_depsolve: Some(Record {
            format: RECORD_FORMAT,
            dependencies,
            interface_exports: meta
                .interface_exports
                .iter()
                .map(|i| i.to_string())
                .collect(),
        }),
    };
    serde_json::to_vec(&config).expect("a config of strings serializes")
}

/// The recorded dependencies and interface exports in a config blob, if it
/// carries a record of ours for the layer `layer`; `None` for any other
/// config (the layer must then be scanned).
pub(crate) fn recorded_metadata(
    config: &[u8],
    layer: &Integrity,
) -> Option<(Vec<Dependency>, Vec<InterfaceName>)> {
    let config: WasmConfig = serde_json::from_slice(config).ok()?;
    if config.layer_digests != [layer.to_oci()] {
        return None;
    }
    let record = config.warg_depsolve?;
    if record.format != RECORD_FORMAT {
        return None;
    }
    let dependencies = record
        .dependencies
        .iter()
        .map(DependencyRecord::to_dependency)
        .collect::<Option<Vec<_>>>()?;
    let exports = record
        .interface_exports
        .iter()
        .map(|i| InterfaceName::parse(i))
        .collect::<Option<Vec<_>>>()?;
    Some((dependencies, exports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_metadata_and_is_deterministic() {
        let bytes = wat::parse_str(
            r#"(component
                (import "wasi:cli/stdout@0.2.3" (instance))
                (import "add" (external-id "unlocked-dep=<test:add@{>=1.0.0}>") (instance))
                (import "test:five/api@1.0.0" (instance))
                (export "test:inc/api@1.0.0" (instance 0))
            )"#,
        )
        .unwrap();
        let meta = ReleaseMetadata::from_component(
            &"test:inc".parse().unwrap(),
            &"1.0.0".parse().unwrap(),
            &bytes,
        )
        .unwrap();
        let config = config_for(&meta, &bytes);
        assert_eq!(config, config_for(&meta, &bytes));
        let json: serde_json::Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(json["architecture"], "wasm");
        assert_eq!(json["os"], "wasip2");
        assert_eq!(json["component"]["imports"][1], "add");
        let (deps, exports) = recorded_metadata(&config, &meta.digest).unwrap();
        assert_eq!(deps, meta.dependencies);
        assert_eq!(exports, meta.interface_exports);
        // A config for other bytes is not trusted.
        assert!(recorded_metadata(&config, &Integrity::sha256(b"other")).is_none());
        // Nor is a config without our record (wkg's).
        let wkg = br#"{"created":"2024-01-01T00:00:00Z","architecture":"wasm","os":"wasip2","layerDigests":[],"component":{"exports":[],"imports":["add"],"target":null}}"#;
        assert!(recorded_metadata(wkg, &meta.digest).is_none());
    }
}
