//! The version-set type the solver hands pubgrub, with a display meant for
//! people (`>=1.0.0 <2.0.0`, not `>=1.0.0, <2.0.0-0`).

use std::fmt;
use std::ops::Bound;

use pubgrub::Ranges;
use semver::Version;
use warg_depsolve_names::VersionSet;

use crate::version::Ver;

/// A set of versions, over the solver's packed versions ([`Ver`]).
/// Wraps pubgrub's `Ranges` to convert from and to the names crate's
/// [`VersionSet`] and to print it well.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Versions(pub(crate) Ranges<Ver>);

impl Versions {
    /// The same set as a [`VersionSet`] of `semver` versions describes.
    pub(crate) fn from_set(set: &VersionSet) -> Versions {
        // The mapping keeps order, so the segments stay sorted and apart.
        Versions(
            set.iter()
                .map(|(lo, hi)| (lo.as_ref().map(Ver::of), hi.as_ref().map(Ver::of)))
                .collect(),
        )
    }

    /// This set as a [`VersionSet`] of `semver` versions.
    pub(crate) fn to_set(&self) -> VersionSet {
        let owned = |b: Bound<&Ver>| b.map(|v| v.version().into_owned());
        self.0
            .iter()
            .map(|(lo, hi)| (owned(lo.as_ref()), owned(hi.as_ref())))
            .collect()
    }

    /// Whether `version` is in the set.
    pub(crate) fn contains_version(&self, version: &Version) -> bool {
        self.0.contains(&Ver::of(version))
    }
}

impl pubgrub::VersionSet for Versions {
    type V = Ver;

    fn empty() -> Self {
        Versions(Ranges::empty())
    }
    fn singleton(v: Ver) -> Self {
        Versions(Ranges::singleton(v))
    }
    fn complement(&self) -> Self {
        Versions(self.0.complement())
    }
    fn intersection(&self, other: &Self) -> Self {
        Versions(self.0.intersection(&other.0))
    }
    fn contains(&self, v: &Ver) -> bool {
        self.0.contains(v)
    }
    fn full() -> Self {
        Versions(Ranges::full())
    }
    fn union(&self, other: &Self) -> Self {
        Versions(self.0.union(&other.0))
    }
    fn is_disjoint(&self, other: &Self) -> bool {
        self.0.is_disjoint(&other.0)
    }
    fn subset_of(&self, other: &Self) -> bool {
        self.0.subset_of(&other.0)
    }
}

/// `2.0.0-0` is how ranges say "before every 2.0.0 pre-release"; people
/// read that as `2.0.0`.
fn human(v: &Version) -> String {
    if v.pre.as_str() == "0" {
        Version::new(v.major, v.minor, v.patch).to_string()
    } else {
        v.to_string()
    }
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.to_set();
        let segments: Vec<_> = set.iter().collect();
        if segments.is_empty() {
            return f.write_str("(no versions)");
        }
        // Merge segments split only by one excluded version (a pre-release
        // or yanked hole), and say which versions are left out.
        let mut merged: Vec<(Bound<&Version>, Bound<&Version>, Vec<&Version>)> = Vec::new();
        for (lo, hi) in segments {
            if let (Some(last), Bound::Excluded(l)) = (merged.last_mut(), lo) {
                if last.1 == Bound::Excluded(l) {
                    last.2.push(l);
                    last.1 = hi.as_ref();
                    continue;
                }
            }
            merged.push((lo.as_ref(), hi.as_ref(), Vec::new()));
        }
        for (i, (lo, hi, holes)) in merged.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            match (lo, hi) {
                (Bound::Unbounded, Bound::Unbounded) => f.write_str("*")?,
                (Bound::Included(a), Bound::Included(b)) if a == b => write!(f, "{a}")?,
                _ => {
                    let mut parts = Vec::new();
                    match lo {
                        Bound::Included(a)
                            if a.pre.as_str() != "0" || a.minor + a.patch + a.major > 0 =>
                        {
                            parts.push(format!(">={}", human(a)))
                        }
                        Bound::Included(_) | Bound::Unbounded => {}
                        Bound::Excluded(a) => parts.push(format!(">{a}")),
                    }
                    match hi {
                        Bound::Excluded(b) => parts.push(format!("<{}", human(b))),
                        Bound::Included(b) => parts.push(format!("<={b}")),
                        Bound::Unbounded => {}
                    }
                    if parts.is_empty() {
                        parts.push("*".into());
                    }
                    f.write_str(&parts.join(" "))?;
                }
            }
            if !holes.is_empty() {
                let list: Vec<String> = holes.iter().map(|v| v.to_string()).collect();
                write!(f, " except {}", list.join(", "))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warg_depsolve_names::{DepRange, DepRef};

    fn range(s: &str) -> Versions {
        match DepRef::parse(&format!("unlocked-dep=<a:b@{s}>")).unwrap() {
            DepRef::Unlocked { range, .. } => Versions::from_set(&range.to_ranges()),
            _ => unreachable!(),
        }
    }

    #[test]
    fn prints_ranges_as_people_write_them() {
        assert_eq!(range("{>=1.0.0 <2.0.0}").to_string(), ">=1.0.0 <2.0.0");
        assert_eq!(range("*").to_string(), "*");
        assert_eq!(range("{<2.0.0}").to_string(), "<2.0.0");
        assert_eq!(range("{>=1.2.0}").to_string(), ">=1.2.0");
        assert_eq!(
            Versions::from_set(&DepRange::Any.to_ranges()).to_string(),
            "*"
        );
        let v: Version = "1.1.0-rc.1".parse().unwrap();
        let holed = Versions::from_set(
            &range("{>=1.0.0}")
                .to_set()
                .intersection(&VersionSet::singleton(v).complement()),
        );
        assert_eq!(holed.to_string(), ">=1.0.0 except 1.1.0-rc.1");
        assert_eq!(
            Versions::from_set(&VersionSet::singleton(Version::new(1, 2, 0))).to_string(),
            "1.2.0"
        );
    }
}
