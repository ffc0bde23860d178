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
//! The same record is also written into the manifest, as the annotation
//! [`RECORD_ANNOTATION`] (`{"layer": <digest>, "record": {...}}`), when
//! it is small ([`MAX_ANNOTATED_RECORD`] bytes at most): a reader then has
//! the metadata from the manifest alone, one round trip per release
//! instead of two. Annotations are free-form strings in the OCI spec, so
//! other readers ignore it; a manifest without it (wkg's, ours before it
//! was written, a large record) is read through its config as before.
//!
//! The manifest is written as wkg's publisher writes it: `mediaType`
//! `application/vnd.oci.image.manifest.v1+json` (optional in the OCI spec,
//! required by wkg's client), the layer titled `<name>.wasm`
//! (`org.opencontainers.image.title`, so OCI tools can name the file), and
//! the standard annotations registries' web pages show:
//! `org.opencontainers.image.version`, and `description`, `licenses`,
//! `source`, `url` and `authors` from the component's own metadata (the
//! custom sections wasm-metadata writes; see
//! [`DescriptiveMetadata`](warg_depsolve_names::scan::DescriptiveMetadata)).
//!
//! `created` is fixed at the Unix epoch on purpose: the same bytes always
//! make the same config and manifest, so the same release published twice
//! (or by two machines) has one digest (the reproducible-builds convention;
//! the registry records when the push happened). Annotations are kept in a
//! sorted map for the same reason.

use std::collections::BTreeMap;

use oci_client::annotations::{
    ORG_OPENCONTAINERS_IMAGE_AUTHORS, ORG_OPENCONTAINERS_IMAGE_DESCRIPTION,
    ORG_OPENCONTAINERS_IMAGE_LICENSES, ORG_OPENCONTAINERS_IMAGE_SOURCE,
    ORG_OPENCONTAINERS_IMAGE_TITLE, ORG_OPENCONTAINERS_IMAGE_URL, ORG_OPENCONTAINERS_IMAGE_VERSION,
};
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::{OciImageManifest, OCI_IMAGE_MEDIA_TYPE};
use serde::{Deserialize, Serialize};
use warg_depsolve_names::scan::{scan, ComponentScan};
use warg_depsolve_names::{Integrity, InterfaceName};
use warg_depsolve_registry::{Dependency, DependencyRecord, ReleaseMetadata};
use warg_depsolve_types::ComponentTypes;

/// The config media type of a Wasm OCI artifact.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The media type of the layer holding the component.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The version of our `wargDepsolve` config record.
const RECORD_FORMAT: u32 = 1;
/// The manifest annotation that repeats the config's record, with the
/// layer it describes.
pub const RECORD_ANNOTATION: &str = "dev.warg-depsolve.record";
/// The largest record (JSON bytes) also written as a manifest annotation:
/// registries bound a manifest's size (4 MiB for the distribution
/// registry), and a release's type facts can be large.
pub const MAX_ANNOTATED_RECORD: usize = 16 * 1024;

/// The annotation's value: the record, and the layer it describes.
#[derive(Serialize, Deserialize, Debug)]
struct Annotated {
    layer: String,
    record: Record,
}

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
    /// The release's type facts (absent in records made before they were
    /// kept: those releases are then not type-checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    types: Option<ComponentTypes>,
}

/// What is pushed for one release: the config blob, the layer and the
/// manifest naming both.
pub(crate) struct Artifact {
    pub(crate) config: Config,
    pub(crate) layer: ImageLayer,
    pub(crate) manifest: OciImageManifest,
}

impl Artifact {
    /// The artifact of `meta`'s release, whose bytes are `bytes` (already
    /// known to scan: `meta` was read from them).
    pub(crate) fn for_release(meta: &ReleaseMetadata, bytes: Vec<u8>) -> Artifact {
        let scanned = scan(&bytes).unwrap_or_default();
        let (config_json, record) = config_json(meta, &scanned);
        let mut annotations = annotations(meta, &scanned);
        if record.len() <= MAX_ANNOTATED_RECORD {
            annotations.insert(RECORD_ANNOTATION.to_string(), record);
        }
        let config = Config {
            data: config_json.into(),
            media_type: CONFIG_MEDIA_TYPE.to_string(),
            annotations: None,
        };
        let layer = ImageLayer {
            data: bytes.into(),
            media_type: LAYER_MEDIA_TYPE.to_string(),
            annotations: Some(BTreeMap::from([(
                ORG_OPENCONTAINERS_IMAGE_TITLE.to_string(),
                format!("{}.wasm", meta.package.name()),
            )])),
        };
        let mut manifest =
            OciImageManifest::build(std::slice::from_ref(&layer), &config, Some(annotations));
        manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_string());
        Artifact {
            config,
            layer,
            manifest,
        }
    }
}

/// The manifest's annotations: the version, and what the component says
/// of itself.
fn annotations(meta: &ReleaseMetadata, scanned: &ComponentScan) -> BTreeMap<String, String> {
    let described = &scanned.metadata.descriptive;
    let mut annotations = BTreeMap::from([(
        ORG_OPENCONTAINERS_IMAGE_VERSION.to_string(),
        meta.version.to_string(),
    )]);
    for (key, value) in [
        (ORG_OPENCONTAINERS_IMAGE_DESCRIPTION, &described.description),
        (ORG_OPENCONTAINERS_IMAGE_LICENSES, &described.licenses),
        (ORG_OPENCONTAINERS_IMAGE_SOURCE, &described.source),
        (ORG_OPENCONTAINERS_IMAGE_URL, &described.homepage),
        (ORG_OPENCONTAINERS_IMAGE_AUTHORS, &described.authors),
    ] {
        if let Some(value) = value {
            annotations.insert(key.to_string(), value.clone());
        }
    }
    annotations
}

/// The config blob's JSON for `meta`'s release, scanned as `scanned`, and
/// the annotation repeating its record.
fn config_json(meta: &ReleaseMetadata, scanned: &ComponentScan) -> (Vec<u8>, String) {
    let imports = scanned
        .imports
        .iter()
        .map(|i| i.name.full_name().into_owned())
        .collect();
    let exports = scanned
        .exports
        .iter()
        .map(|e| e.name.full_name().into_owned())
        .collect();
    let dependencies = meta
        .dependencies
        .iter()
        .filter_map(DependencyRecord::of)
        .collect();
    let mut config = WasmConfig {
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
            types: meta.types.clone(),
        }),
    };
    let annotated = Annotated {
        layer: meta.digest.to_oci(),
        record: config
            .warg_depsolve
            .take()
            .expect("the record was just made"),
    };
    let annotation = serde_json::to_string(&annotated).expect("a record of strings serializes");
    config.warg_depsolve = Some(annotated.record);
    (
        serde_json::to_vec(&config).expect("a config of strings serializes"),
        annotation,
    )
}

/// What a config blob of ours records about its layer.
#[derive(Debug)]
pub(crate) struct Recorded {
    pub(crate) dependencies: Vec<Dependency>,
    pub(crate) interface_exports: Vec<InterfaceName>,
    pub(crate) types: Option<ComponentTypes>,
}

/// The recorded dependencies, interface exports and types in a config
/// blob, if it carries a record of ours for the layer `layer`; `None` for
/// any other config (the layer must then be scanned).
pub(crate) fn recorded_metadata(config: &[u8], layer: &Integrity) -> Option<Recorded> {
    let config: WasmConfig = serde_json::from_slice(config).ok()?;
    if config.layer_digests != [layer.to_oci()] {
        return None;
    }
    recorded(config.warg_depsolve?)
}

/// The record a manifest's [`RECORD_ANNOTATION`] carries, if there is one
/// for the layer `layer`; `None` otherwise (the config must then be read).
pub(crate) fn annotated_metadata(
    annotations: Option<&BTreeMap<String, String>>,
    layer: &Integrity,
) -> Option<Recorded> {
    let text = annotations?.get(RECORD_ANNOTATION)?;
    let annotated: Annotated = serde_json::from_str(text).ok()?;
    if annotated.layer != layer.to_oci() {
        return None;
    }
    recorded(annotated.record)
}

/// What `record` says, if it is of the format this version reads.
fn recorded(record: Record) -> Option<Recorded> {
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
    Some(Recorded {
        dependencies,
        interface_exports: exports,
        types: record.types,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_of(artifact: &Artifact) -> Vec<u8> {
        artifact.config.data.to_vec()
    }

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
        let config = config_of(&Artifact::for_release(&meta, bytes.clone()));
        assert_eq!(
            config,
            config_of(&Artifact::for_release(&meta, bytes.clone()))
        );
        let json: serde_json::Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(json["architecture"], "wasm");
        assert_eq!(json["os"], "wasip2");
        assert_eq!(json["component"]["imports"][1], "add");
        let recorded = recorded_metadata(&config, &meta.digest).unwrap();
        assert_eq!(recorded.dependencies, meta.dependencies);
        assert_eq!(recorded.interface_exports, meta.interface_exports);
        assert_eq!(recorded.types, meta.types);
        assert!(recorded.types.is_some());
        // The manifest repeats the record, for its layer only.
        let manifest = Artifact::for_release(&meta, bytes.clone()).manifest;
        let annotated = annotated_metadata(manifest.annotations.as_ref(), &meta.digest).unwrap();
        assert_eq!(annotated.dependencies, meta.dependencies);
        assert_eq!(annotated.interface_exports, meta.interface_exports);
        assert_eq!(annotated.types, meta.types);
        assert!(
            annotated_metadata(manifest.annotations.as_ref(), &Integrity::sha256(b"other"))
                .is_none()
        );
        assert!(annotated_metadata(None, &meta.digest).is_none());
        // A config for other bytes is not trusted.
        assert!(recorded_metadata(&config, &Integrity::sha256(b"other")).is_none());
        // Nor is a config without our record (wkg's).
        let wkg = br#"{"created":"2024-01-01T00:00:00Z","architecture":"wasm","os":"wasip2","layerDigests":[],"component":{"exports":[],"imports":["add"],"target":null}}"#;
        assert!(recorded_metadata(wkg, &meta.digest).is_none());
    }

    /// The manifest as wkg's client requires it and wkg's publisher writes
    /// it: media type, layer title, annotations from the component's own
    /// metadata; the same bytes give the same manifest.
    #[test]
    fn manifest_carries_media_type_title_and_annotations() {
        let mut component = wasm_encoder::Component::new();
        for (name, data) in [
            ("description", "Adds one."),
            ("licenses", "Apache-2.0 WITH LLVM-exception"),
            ("source", "https://example.com/src"),
            ("homepage", "https://example.com"),
            ("authors", "A. Author <a@example.com>"),
        ] {
            component.section(&wasm_encoder::CustomSection {
                name: name.into(),
                data: data.as_bytes().into(),
            });
        }
        let bytes = component.finish();
        let meta = ReleaseMetadata::from_component(
            &"test:inc".parse().unwrap(),
            &"1.2.0".parse().unwrap(),
            &bytes,
        )
        .unwrap();
        let artifact = Artifact::for_release(&meta, bytes.clone());
        let manifest = serde_json::to_value(&artifact.manifest).unwrap();
        assert_eq!(
            manifest["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(
            manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
            "inc.wasm"
        );
        let annotations = &manifest["annotations"];
        for (key, value) in [
            ("version", "1.2.0"),
            ("description", "Adds one."),
            ("licenses", "Apache-2.0 WITH LLVM-exception"),
            ("source", "https://example.com/src"),
            ("url", "https://example.com"),
            ("authors", "A. Author <a@example.com>"),
        ] {
            assert_eq!(
                annotations[format!("org.opencontainers.image.{key}")],
                value
            );
        }
        assert_eq!(
            serde_json::to_vec(&Artifact::for_release(&meta, bytes).manifest).unwrap(),
            serde_json::to_vec(&artifact.manifest).unwrap()
        );
    }
}
