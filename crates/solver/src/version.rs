//! The version type pubgrub works with ([`Ver`]): a release's version
//! packed into one integer where it fits, which is nearly always.
//!
//! pubgrub compares, clones and drops versions in every set operation of
//! its unit propagation, and a `semver::Version` is 40 bytes whose
//! pre-release and build identifiers are checked on every comparison,
//! clone and drop. A plain release (`1.2.3`) and the bound every caret
//! range ends on (`2.0.0-0`, "before every 2.0.0 pre-release") are one
//! `u64` here, compared as integers; any other version (another
//! pre-release, build metadata, numbers too large to pack) keeps its
//! `semver::Version`, shared. Order, equality and hashing are semver's:
//! a version that can be packed always is, so two equal versions always
//! have the same form.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::Bound;
use std::sync::{Arc, LazyLock};

use pubgrub::Ranges;
use semver::{BuildMetadata, Prerelease, Version};
use warg_depsolve_names::Track;

/// Bits per number in [`Ver::Packed`].
const BITS: u32 = 21;
const MAX: u64 = (1 << BITS) - 1;

/// The `-0` pre-release, parsed once.
static ZERO: LazyLock<Prerelease> =
    LazyLock::new(|| Prerelease::new("0").expect("`0` is a pre-release"));

/// A version as the solver hands it to pubgrub (see the module docs;
/// public only because pubgrub's traits name it, in a private module).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Ver {
    /// `major`, `minor` and `patch` in 21 bits each, then one bit: 0 for
    /// the `-0` pre-release, 1 for the release itself.
    Packed(u64),
    /// Any other version.
    Other(Arc<Version>),
}

impl Ver {
    /// The solver's form of `version`.
    pub(crate) fn of(version: &Version) -> Ver {
        let fits = version.major <= MAX && version.minor <= MAX && version.patch <= MAX;
        let release = version.pre.is_empty();
        if fits && version.build.is_empty() && (release || version.pre == *ZERO) {
            let numbers = (version.major << (2 * BITS)) | (version.minor << BITS) | version.patch;
            Ver::Packed((numbers << 1) | u64::from(release))
        } else {
            Ver::Other(Arc::new(version.clone()))
        }
    }

    /// `major.minor.patch-0`, packed, if the numbers fit.
    fn pre_zero(major: u64, minor: u64, patch: u64) -> Option<Ver> {
        (major <= MAX && minor <= MAX && patch <= MAX)
            .then(|| Ver::Packed(((major << (2 * BITS)) | (minor << BITS) | patch) << 1))
    }

    /// The versions on `track`, as the half-open range `[start, end)`
    /// ([`Track::versions`]), when both ends pack.
    pub(crate) fn track_bounds(track: Track) -> Option<(Ver, Ver)> {
        let (lo, hi) = match track {
            Track::Major(m) => ((m, 0, 0), (m.checked_add(1)?, 0, 0)),
            Track::Minor(n) => ((0, n, 0), (0, n.checked_add(1)?, 0)),
            Track::Patch(p) => ((0, 0, p), (0, 0, p.checked_add(1)?)),
        };
        Some((
            Ver::pre_zero(lo.0, lo.1, lo.2)?,
            Ver::pre_zero(hi.0, hi.1, hi.2)?,
        ))
    }

    /// `0.0.0`, the version the root is solved at.
    pub(crate) fn zero() -> Ver {
        Ver::Packed(1)
    }

    /// The `semver::Version` this is, borrowed when it is kept as one.
    pub(crate) fn version(&self) -> Cow<'_, Version> {
        match self {
            Ver::Packed(key) => {
                let numbers = key >> 1;
                Cow::Owned(Version {
                    major: numbers >> (2 * BITS),
                    minor: (numbers >> BITS) & MAX,
                    patch: numbers & MAX,
                    pre: match key & 1 {
                        0 => ZERO.clone(),
                        _ => Prerelease::EMPTY,
                    },
                    build: BuildMetadata::EMPTY,
                })
            }
            Ver::Other(version) => Cow::Borrowed(version),
        }
    }
}

impl Ord for Ver {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ver::Packed(a), Ver::Packed(b)) => a.cmp(b),
            _ => self.cmp_slow(other),
        }
    }
}

impl Ver {
    #[cold]
    #[inline(never)]
    fn cmp_slow(&self, other: &Self) -> Ordering {
        self.version().cmp(&other.version())
    }
}

impl PartialOrd for Ver {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Ver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.version(), f)
    }
}

impl fmt::Debug for Ver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// How many of the sorted `versions` are in `range`: two binary searches
/// per segment.
pub(crate) fn count_in(versions: &[Ver], range: &Ranges<Ver>) -> usize {
    range
        .iter()
        .map(|(lo, hi)| {
            let start = match lo {
                Bound::Included(v) => versions.partition_point(|x| x < v),
                Bound::Excluded(v) => versions.partition_point(|x| x <= v),
                Bound::Unbounded => 0,
            };
            let end = match hi {
                Bound::Included(v) => versions.partition_point(|x| x <= v),
                Bound::Excluded(v) => versions.partition_point(|x| x < v),
                Bound::Unbounded => versions.len(),
            };
            end.saturating_sub(start)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSIONS: [&str; 16] = [
        "0.0.0",
        "0.0.1",
        "0.1.0-0",
        "0.1.0-alpha",
        "0.1.0",
        "1.0.0-0",
        "1.0.0-0.1",
        "1.0.0-0+b",
        "1.0.0-1",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.0+build",
        "1.2.3",
        "2097151.0.0",
        "2097152.0.0-0",
        "2097152.0.0",
    ];

    #[test]
    fn order_equality_and_round_trip_are_semvers() {
        let versions: Vec<Version> = VERSIONS.iter().map(|v| v.parse().unwrap()).collect();
        for a in &versions {
            assert_eq!(&*Ver::of(a).version(), a);
            assert_eq!(Ver::of(a).to_string(), a.to_string());
            for b in &versions {
                assert_eq!(Ver::of(a).cmp(&Ver::of(b)), a.cmp(b), "{a} vs {b}");
                assert_eq!(Ver::of(a) == Ver::of(b), a == b, "{a} vs {b}");
            }
        }
        assert!(matches!(Ver::of(&versions[5]), Ver::Packed(_)));
        assert!(matches!(Ver::of(&versions[13]), Ver::Packed(_)));
        assert!(matches!(Ver::of(&versions[14]), Ver::Other(_)));
        assert_eq!(Ver::zero(), Ver::of(&Version::new(0, 0, 0)));
    }

    #[test]
    fn track_bounds_and_counts_agree_with_filtering() {
        let mut versions: Vec<Version> = VERSIONS.iter().map(|v| v.parse().unwrap()).collect();
        versions.sort();
        let vers: Vec<Ver> = versions.iter().map(Ver::of).collect();
        let ranges = [
            Ranges::full(),
            Ranges::between(Ver::of(&versions[4]), Ver::of(&versions[12])),
            Ranges::singleton(Ver::of(&versions[10])),
            Ranges::higher_than(Ver::of(&versions[6])),
            Ranges::strictly_lower_than(Ver::of(&versions[9]))
                .union(&Ranges::strictly_higher_than(Ver::of(&versions[12]))),
        ];
        for track in versions.iter().map(Track::of) {
            // The largest numbers do not pack: the caller counts one by one.
            let Some((lo, hi)) = Ver::track_bounds(track) else {
                assert!(matches!(track, Track::Major(m) if m >= MAX), "{track:?}");
                continue;
            };
            let a = vers.partition_point(|v| v < &lo);
            let b = vers.partition_point(|v| v < &hi);
            for range in &ranges {
                let expected = versions
                    .iter()
                    .zip(&vers)
                    .filter(|(v, p)| Track::of(v) == track && range.contains(*p))
                    .count();
                assert_eq!(
                    count_in(&vers[a..b], range),
                    expected,
                    "{track:?} {range:?}"
                );
            }
        }
        assert_eq!(Ver::track_bounds(Track::Major(2_097_151)), None);
    }
}
