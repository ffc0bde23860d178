//! A warg registry client: the protocol of bytecodealliance/registry 0.10,
//! spoken with that project's own record types, validators, signatures and
//! proofs (`warg-protocol`, `warg-api`, `warg-crypto`, `warg-transparency`),
//! without its `warg-client` crate.
//!
//! This crate's one room is the warg protocol. [`WargClient`] reaches one
//! registry and trusts nothing it has not checked:
//!
//! - the **checkpoint** is signed by a key that the operator log gives the
//!   right to sign checkpoints;
//! - a new checkpoint **extends** the last one seen (a consistency proof;
//!   a shorter log is [`WargError::Rewind`], other roots at the same
//!   length [`WargError::Forked`]), and this is proven before any stored
//!   fetch token is sent;
//! - the operator and package logs are fetched since their tokens, page by
//!   page, and every record goes through the protocol's **validators**
//!   (hash chain, timestamps, permissions, signatures);
//! - each log's head is **included** in the checkpoint's log, and is its
//!   log's latest record in the checkpoint's map;
//! - **content** is fetched by digest (`v1/content/{digest}` names the
//!   URLs) and checked against it.
//!
//! Releases and yanks come from the validated package logs
//! ([`WargClient::releases`]); the digests of yanked releases are kept
//! (the protocol's state forgets them, and a lock may pin one).
//! [`WargClient::publish`] creates a package's log when needed, signs a
//! release record with the configured key, uploads the content when the
//! registry asks for it and waits until the record is published;
//! [`WargClient::set_yanked`] yanks (warg has no un-yank:
//! [`WargError::NoUnyank`]).
//!
//! Namespaces: the operator log may say a namespace is imported from
//! another registry ([`WargClient::namespace`]); its packages are then
//! [`WargError::NamespaceImported`], naming that registry, so that the
//! caller goes there directly. Asking one registry to answer for another
//! (the `Warg-Registry` header) is an opt-in setting
//! ([`WargSettings::registry_header`]); a registry that answers 501 to it
//! is [`WargError::RegistryHeaderRefused`].
//!
//! What a client learned is a [`RegistryState`], which callers may keep
//! between runs (it serializes) and hand to a later client.
//!
//! [`WargSource`] puts a client behind the registry crate's `Source`,
//! `Hints` and `Publish` traits.
//!
//! It must not solve, compose, print or cache on disk: it knows nothing
//! about components beyond their bytes and digests.
//!
//! ```no_run
//! use warg_depsolve_warg::{WargClient, WargSettings};
//! let client = WargClient::new("127.0.0.1:8090", WargSettings::for_host("127.0.0.1:8090")).unwrap();
//! let package = "test:add".parse().unwrap();
//! for release in client.releases(&package).unwrap() {
//!     let bytes = client.download(&release.digest).unwrap();
//!     println!("{}: {} bytes, yanked: {}", release.version, bytes.len(), release.yanked);
//! }
//! ```

#![allow(clippy::result_large_err)]

mod client;
mod content;
pub mod error;
mod factory;
mod http;
mod publish;
mod settings;
mod source;
mod state;
mod update;
mod verify;

pub use client::{new_runtime, Published, WargClient};
pub use error::{CheckpointProblem, LogName, ProofProblem, RecordProblem, WargError};
pub use factory::{factory, settings_from_table, WargOptions};
pub use settings::{
    url_for_host, WargSettings, DEFAULT_CONNECT_TIMEOUT, DEFAULT_PAGE_SIZE, DEFAULT_PUBLISH_POLL,
    DEFAULT_PUBLISH_TIMEOUT, DEFAULT_READ_TIMEOUT, DEFAULT_RETRIES, DEFAULT_RETRY_BACKOFF,
};
pub use source::{WargSource, MAX_IMPORT_HOPS};
pub use state::{Namespace, RegistryState, WargRelease};

/// The protocol types callers meet in this API.
pub use warg_crypto::hash::AnyHash;
pub use warg_crypto::signing::{PrivateKey, PublicKey};
pub use warg_protocol::registry::PackageName;
