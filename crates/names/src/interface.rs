//! Versioned interface names (`ns:pkg/iface@1.2.3`).

use std::fmt;

use semver::Version;
use serde::Serialize;

use crate::package::{validate_label, PackageName};
use crate::version::Track;

/// An interface name as used in import and export names:
/// `namespace:package/interface`, optionally `@version`.
///
/// ```
/// use warg_depsolve_names::{InterfaceName, Track};
/// let i = InterfaceName::parse("test:inc/api@1.0.0").unwrap();
/// assert_eq!(i.package.to_string(), "test:inc");
/// assert_eq!(i.interface, "api");
/// assert_eq!(i.track(), Some(Track::Major(1)));
/// assert!(InterfaceName::parse("inc").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct InterfaceName {
    /// The package that defines the interface.
    pub package: PackageName,
    /// The interface's label within its package.
    pub interface: String,
    /// The version, if the name carries one.
    pub version: Option<Version>,
}

impl InterfaceName {
    /// Parses an interface name; `None` for anything else (plain names,
    /// depnames, malformed strings).
    pub fn parse(name: &str) -> Option<Self> {
        let (path, version) = match name.split_once('@') {
            Some((path, v)) => (path, Some(Version::parse(v).ok()?)),
            None => (name, None),
        };
        let (package, interface) = path.split_once('/')?;
        let package: PackageName = package.parse().ok()?;
        validate_label(interface).ok()?;
        Some(InterfaceName {
            package,
            interface: interface.to_string(),
            version,
        })
    }

    /// The canonical track of the version, if any. Two interface names link
    /// when package, interface and track agree.
    pub fn track(&self) -> Option<Track> {
        self.version.as_ref().map(Track::of)
    }

    /// Whether `other` names the same interface on the same canonical track
    /// (so the two link, per the spec's canonical-track rule).
    pub fn links_to(&self, other: &InterfaceName) -> bool {
        self.package == other.package
            && self.interface == other.interface
            && self.track() == other.track()
    }

    /// Whether this is a WASI interface (`wasi:*`): always a host import.
    pub fn is_wasi(&self) -> bool {
        self.package.namespace() == "wasi"
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.package, self.interface)?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_on_canonical_tracks() {
        let p = |s| InterfaceName::parse(s).unwrap();
        assert!(p("wasi:cli/stdout@0.2.1").links_to(&p("wasi:cli/stdout@0.2.6")));
        assert!(!p("acme:kv/store@1.0.0").links_to(&p("acme:kv/store@2.0.0")));
        assert!(!p("acme:kv/store@0.1.0").links_to(&p("acme:kv/store@0.2.0")));
        assert!(p("a:b/c").links_to(&p("a:b/c")));
        assert!(p("wasi:cli/stdout@0.2.1").is_wasi());
        assert_eq!(p("a:b/c@1.2.3-rc.1").to_string(), "a:b/c@1.2.3-rc.1");
    }

    #[test]
    fn rejects_non_interfaces() {
        for s in [
            "add",
            "a:b",
            "a:b/",
            "a:b/c@1",
            "unlocked-dep=<a:b@*>",
            "a:b/c_d",
        ] {
            assert!(InterfaceName::parse(s).is_none(), "{s}");
        }
    }
}
