//! The version-set type the solver hands pubgrub, with a display meant for
//! people (`>=1.0.0 <2.0.0`, not `>=1.0.0, <2.0.0-0`).

use std::fmt;
use std::ops::Bound;

use semver::Version;
use warg_depsolve_names::VersionSet;

/// A set of versions. Wraps pubgrub's `Ranges` only to print it well.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Versions(pub VersionSet);

impl pubgrub::VersionSet for Versions {
    type V = Version;

    fn empty() -> Self {
        Versions(VersionSet::empty())
    }
    fn singleton(v: Version) -> Self {
        Versions(VersionSet::singleton(v))
    }
    fn complement(&self) -> Self {
        Versions(self.0.complement())
    }
    fn intersection(&self, other: &Self) -> Self {
        Versions(self.0.intersection(&other.0))
    }
    fn contains(&self, v: &Version) -> bool {
        self.0.contains(v)
    }
    fn full() -> Self {
        Versions(VersionSet::full())
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
        let segments: Vec<_> = self.0.iter().collect();
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
            DepRef::Unlocked { range, .. } => Versions(range.to_ranges()),
            _ => unreachable!(),
        }
    }

    #[test]
    fn prints_ranges_as_people_write_them() {
        assert_eq!(range("{>=1.0.0 <2.0.0}").to_string(), ">=1.0.0 <2.0.0");
        assert_eq!(range("*").to_string(), "*");
        assert_eq!(range("{<2.0.0}").to_string(), "<2.0.0");
        assert_eq!(range("{>=1.2.0}").to_string(), ">=1.2.0");
        assert_eq!(Versions(DepRange::Any.to_ranges()).to_string(), "*");
        let v: Version = "1.1.0-rc.1".parse().unwrap();
        let holed = Versions(
            range("{>=1.0.0}")
                .0
                .intersection(&VersionSet::singleton(v).complement()),
        );
        assert_eq!(holed.to_string(), ">=1.0.0 except 1.1.0-rc.1");
        assert_eq!(
            Versions(VersionSet::singleton(Version::new(1, 2, 0))).to_string(),
            "1.2.0"
        );
    }
}
