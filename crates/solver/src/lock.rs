//! The lock file: one pin per resolved (package, canonical track).
//!
//! # Format
//!
//! TOML, a superset of wkg's `wkg.lock` schema (`version = 1`,
//! `[[packages]]` with `name` and `registry`, each with
//! `[[packages.versions]]` holding `requirement`, `version`, `digest`), so
//! wkg-style tooling can read it. What wkg's schema cannot say is kept in
//! extra keys, which readers of the plain schema ignore:
//!
//! - one `[[packages.versions]]` entry per canonical track (wkg allows several
//!   versions per package; here each one is a track) with `track = "1"`;
//! - `requirement` is the caret requirement of that track (`^1`, `^0.2`,
//!   `=0.0.4`), a valid cargo-style requirement as wkg expects, which
//!   matches the pinned version by semver's rules (a pre-release pin gets the
//!   caret requirement of itself, `^1.1.0-rc.1`: see [`LockedVersion::requirement`]);
//!   the requirements that actually led to the pin are listed in `required-by`
//!   (`"root: inc {>=1.0.0}"`, `"test:inc@1.0.0: add {>=1.0.0 <2.0.0}"`).
//!
//! # Reading wkg's own lock files
//!
//! A `wkg.lock` is read as it is: its older spellings `[[package]]` and
//! `[[packages.version]]` are accepted, a missing `track` is derived from
//! the version, and a package that wkg pinned once per requirement (two
//! entries, same version and digest, different `requirement`) is one pin
//! here. What this model cannot hold is refused with an error naming the
//! package rather than dropped: two *different* versions on one canonical
//! track ([`LockError::TwoPinsOnOneTrack`]: a resolution has one instance
//! per track), or one package under two registries
//! ([`LockError::PackageListedTwice`]).
//!
//! Entries are sorted by package name, then track; the output is byte-stable.
//!
//! ```
//! use warg_depsolve_solver::LockFile;
//! let text = r#"
//! version = 1
//! [[packages]]
//! name = "test:add"
//! registry = "local"
//! [[packages.versions]]
//! requirement = "^1"
//! version = "1.1.0"
//! digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
//! "#;
//! let lock = LockFile::parse(text).unwrap();
//! let pins: Vec<_> = lock.pins().collect();
//! assert_eq!(pins[0].2.to_string(), "1.1.0");
//! ```

use semver::Version;
use serde::{Deserialize, Serialize};
use warg_depsolve_names::{Integrity, PackageName, Track};

use crate::resolution::Resolution;

/// The lock file format version this crate writes and reads.
pub const LOCK_VERSION: u32 = 1;

/// A parsed lock file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockFile {
    /// Format version (`1`).
    pub version: u32,
    /// One entry per package name (`[[packages]]`; older wkg locks spell
    /// it `[[package]]`).
    #[serde(default, alias = "package")]
    pub packages: Vec<LockedPackage>,
    /// The plugs the resolution was made with (`[[plugs]]`, written only
    /// when there are some, so that a lock without plugs stays wkg's
    /// shape): `--plug` and the project file's `[plug]` table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugs: Vec<LockedPlug>,
}

/// One plug recorded in a lock file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LockedPlug {
    /// The interface pattern (`acme:kv/store`, `acme:kv/*`, `acme:*`).
    pub interface: String,
    /// The package plugged in.
    pub package: PackageName,
    /// The semver requirement on it, if the plug gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
}

impl From<&crate::Plug> for LockedPlug {
    fn from(plug: &crate::Plug) -> Self {
        LockedPlug {
            interface: plug.pattern.clone(),
            package: plug.package.clone(),
            range: plug.range.as_ref().map(ToString::to_string),
        }
    }
}

impl std::fmt::Display for LockedPlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.interface, self.package)?;
        if let Some(range) = &self.range {
            write!(f, "@{range}")?;
        }
        Ok(())
    }
}

/// All pins of one package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedPackage {
    /// `ns:name`.
    pub name: PackageName,
    /// The registry it was resolved from.
    #[serde(default)]
    pub registry: Option<String>,
    /// One entry per canonical track (`[[packages.versions]]`; older wkg
    /// locks spell it `[[packages.version]]`).
    #[serde(default, alias = "version")]
    pub versions: Vec<LockedVersion>,
}

/// One pinned release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LockedVersion {
    /// Cargo-style requirement, as wkg reads it: the track's (`^1`), or for
    /// a pre-release pin the caret requirement of the pin (`^1.1.0-rc.1`).
    /// Semver's matching (cargo's, wkg's `VersionReq::matches`) lets a
    /// requirement match a pre-release only through a comparator naming the
    /// same `major.minor.patch` with a pre-release, so `^1` would reject the
    /// very version it sits beside.
    pub requirement: String,
    /// The pinned version.
    pub version: Version,
    /// `sha256:<hex>` of the release's bytes.
    pub digest: Integrity,
    /// The canonical track; derived from `version` when absent (wkg locks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<Track>,
    /// The requirements that led here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_by: Vec<String>,
}

/// A lock file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Not TOML, or not the schema.
    #[error("malformed lock file: {0}")]
    Malformed(String),
    /// A format version this build does not understand.
    #[error(
        "lock file format version {0} is not supported (this build reads version {LOCK_VERSION})"
    )]
    UnsupportedVersion(u32),
    /// One package in two `[[packages]]` entries: a lock lists each
    /// package once (with its registry), so the two could disagree on
    /// where it comes from.
    #[error("`{package}` is listed twice; a lock file has one `[[packages]]` entry per package")]
    PackageListedTwice {
        /// The package.
        package: PackageName,
    },
    /// Two pins for one package and canonical track: a track holds one
    /// version (one instance) in a resolution, so such a lock cannot have
    /// come from one.
    #[error("`{package}` is pinned twice on track {track} ({first} and {second})")]
    TwoPinsOnOneTrack {
        /// The package.
        package: PackageName,
        /// The track.
        track: Track,
        /// The first pinned version.
        first: Version,
        /// The second.
        second: Version,
    },
}

/// The requirement written beside a pin of `version` on `track` (see
/// [`LockedVersion::requirement`]). Build metadata is left out: requirements
/// have none, and matching ignores it.
fn requirement_for(track: Track, version: &Version) -> String {
    if !version.pre.is_empty() {
        let Version {
            major,
            minor,
            patch,
            pre,
            ..
        } = version;
        return format!("^{major}.{minor}.{patch}-{pre}");
    }
    match track {
        Track::Major(m) => format!("^{m}"),
        Track::Minor(m) => format!("^0.{m}"),
        Track::Patch(p) => format!("=0.0.{p}"),
    }
}

impl LockFile {
    /// The lock that records a resolution.
    pub fn from_resolution(resolution: &Resolution) -> Self {
        let mut packages: Vec<LockedPackage> = Vec::new();
        // `resolution.packages` is sorted by (name, track) already.
        let requirements = resolution.requirements();
        for (p, required_by) in resolution.packages.iter().zip(requirements) {
            let entry = LockedVersion {
                requirement: requirement_for(p.track, &p.version),
                version: p.version.clone(),
                digest: p.digest.clone(),
                track: Some(p.track),
                required_by: required_by
                    .iter()
                    .map(|r| match r.asked() {
                        Some(asked) => format!("{}: {} {asked}", r.dependent, r.import),
                        None => format!("{}: {}", r.dependent, r.import),
                    })
                    .collect(),
            };
            match packages.last_mut() {
                Some(last) if last.name == p.package => last.versions.push(entry),
                _ => packages.push(LockedPackage {
                    name: p.package.clone(),
                    registry: Some(p.registry.clone()),
                    versions: vec![entry],
                }),
            }
        }
        LockFile {
            version: LOCK_VERSION,
            packages,
            plugs: Vec::new(),
        }
    }

    /// The same lock recording `plugs` (sorted, so that the text is
    /// stable).
    pub fn with_plugs<'p>(mut self, plugs: impl IntoIterator<Item = &'p crate::Plug>) -> Self {
        self.plugs = plugs.into_iter().map(LockedPlug::from).collect();
        self.plugs.sort();
        self
    }

    /// Parses lock-file text.
    pub fn parse(text: &str) -> Result<Self, LockError> {
        let lock: LockFile =
            toml::from_str(text).map_err(|e| LockError::Malformed(e.to_string()))?;
        if lock.version != LOCK_VERSION {
            return Err(LockError::UnsupportedVersion(lock.version));
        }
        let mut lock = lock;
        let mut names = std::collections::HashSet::new();
        for p in &mut lock.packages {
            // Found by fuzzing: a second entry made `changes_to` compare a
            // lock with itself and report a registry change.
            if !names.insert(p.name.clone()) {
                return Err(LockError::PackageListedTwice {
                    package: p.name.clone(),
                });
            }
            // wkg pins once per requirement: the same release twice is one
            // pin (the first entry's requirement text is kept).
            let mut kept: Vec<LockedVersion> = Vec::with_capacity(p.versions.len());
            for v in p.versions.drain(..) {
                let track = v.track.unwrap_or_else(|| Track::of(&v.version));
                let same_track = kept
                    .iter()
                    .find(|k| k.track.unwrap_or_else(|| Track::of(&k.version)) == track);
                match same_track {
                    None => kept.push(v),
                    Some(first) if first.version == v.version && first.digest == v.digest => {}
                    Some(first) => {
                        return Err(LockError::TwoPinsOnOneTrack {
                            package: p.name.clone(),
                            track,
                            first: first.version.clone(),
                            second: v.version.clone(),
                        })
                    }
                }
            }
            p.versions = kept;
        }
        Ok(lock)
    }

    /// Deterministic TOML text.
    pub fn to_toml(&self) -> String {
        let mut sorted = self.clone();
        sorted.packages.sort_by(|a, b| a.name.cmp(&b.name));
        for p in &mut sorted.packages {
            p.versions.sort_by(|a, b| a.version.cmp(&b.version));
        }
        let body = toml::to_string(&sorted).expect("a lock file always serializes");
        format!("# Generated by warg-depsolve: one pin per package and canonical track.\n# Edit with `warg-depsolve update`, not by hand.\n{body}")
    }

    /// The digest a pin records for `package@version`, with the registry
    /// the package was resolved from.
    pub fn pinned(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Option<(&Integrity, Option<&str>)> {
        self.packages
            .iter()
            .filter(|p| &p.name == package)
            .flat_map(|p| p.versions.iter().map(move |v| (p, v)))
            .find(|(_, v)| &v.version == version)
            .map(|(p, v)| (&v.digest, p.registry.as_deref()))
    }

    /// Every pin: (package, track, version).
    pub fn pins(&self) -> impl Iterator<Item = (PackageName, Track, Version)> + '_ {
        self.packages.iter().flat_map(|p| {
            p.versions.iter().map(move |v| {
                let track = v.track.unwrap_or_else(|| Track::of(&v.version));
                (p.name.clone(), track, v.version.clone())
            })
        })
    }

    /// What changes going from `self` to `new`, one line per package and
    /// track (`test:add (track 1): 1.0.0 -> 1.1.0`, `... 1.1.0 added`,
    /// `... 1.0.0 removed`); empty when the pins and digests are the same.
    /// The wording fits both a change made and one refused (`--locked`).
    pub fn changes_to(&self, new: &LockFile) -> Vec<String> {
        use std::collections::BTreeMap;
        let index = |l: &LockFile| -> BTreeMap<(PackageName, Track), (Version, Integrity)> {
            l.packages
                .iter()
                .flat_map(|p| {
                    p.versions.iter().map(move |v| {
                        let track = v.track.unwrap_or_else(|| Track::of(&v.version));
                        (
                            (p.name.clone(), track),
                            (v.version.clone(), v.digest.clone()),
                        )
                    })
                })
                .collect()
        };
        let (old, new_pins) = (index(self), index(new));
        let mut changes = Vec::new();
        for (key, (v, d)) in &old {
            match new_pins.get(key) {
                None => changes.push(format!("{} (track {}): {} removed", key.0, key.1, v)),
                Some((nv, _)) if nv != v => {
                    changes.push(format!("{} (track {}): {} -> {}", key.0, key.1, v, nv))
                }
                Some((_, nd)) if nd != d => changes.push(format!(
                    "{} (track {}): {} digest {} -> {}",
                    key.0,
                    key.1,
                    v,
                    d.to_oci(),
                    nd.to_oci()
                )),
                Some(_) => {}
            }
        }
        for p in &new.packages {
            let before = self.packages.iter().find(|o| o.name == p.name);
            if let Some(before) = before.filter(|o| o.registry != p.registry) {
                let show = |r: &Option<String>| r.as_deref().unwrap_or("(none)").to_string();
                changes.push(format!(
                    "{}: registry {} -> {}",
                    p.name,
                    show(&before.registry),
                    show(&p.registry)
                ));
            }
        }
        for (key, (v, _)) in &new_pins {
            if !old.contains_key(key) {
                changes.push(format!("{} (track {}): {} added", key.0, key.1, v));
            }
        }
        for plug in self.plugs.iter().filter(|p| !new.plugs.contains(p)) {
            changes.push(format!("plug {plug} removed"));
        }
        for plug in new.plugs.iter().filter(|p| !self.plugs.contains(p)) {
            changes.push(format!("plug {plug} added"));
        }
        changes
    }
}
