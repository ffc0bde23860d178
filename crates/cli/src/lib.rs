//! The `warg-depsolve` command line and the library facade loaders call.
//!
//! This crate owns what a user or a loader touches directly: the
//! `warg-depsolve` binary's subcommands ([`cli`]), reading component files
//! from disk in binary or text form ([`input`]), and the reports built from
//! them ([`inspect`]). It wires the other crates together
//! (`warg-depsolve-names` for classifying imports, and in time the registry,
//! solver and compose crates) and must not grow logic of its own for
//! classifying names, solving versions or composing binaries: when a
//! subcommand needs such logic, it belongs in the crate that owns that
//! concern, and this crate only calls it and presents the result.

#![warn(missing_docs)]

pub mod cli;
pub mod input;
pub mod inspect;
