//! The version type pubgrub works with ([`Ver`]): a release's version
//! packed into one integer, 8 bytes and `Copy`.
//!
//! pubgrub compares, clones and drops versions in every set operation of
//! its unit propagation, and a `semver::Version` is 40 bytes whose
//! pre-release and build identifiers are checked on every comparison,
//! clone and drop. A plain release (`1.2.3`) and the bound every caret
//! range ends on (`2.0.0-0`, "before every 2.0.0 pre-release") are packed
//! into the integer itself and compared as integers; any other version
//! (another pre-release, build metadata, numbers too large to pack) is
//! interned: the integer is its index in a process-wide table, so a
//! `Ver` never owns anything, and copying or dropping one (or a range of
//! them) is a plain copy. Order, equality and hashing are semver's: a
//! version that can be packed always is, and an interned one is interned
//! once, so two equal versions always have the same integer.
//!
//! The table keeps each distinct unusual version for the life of the
//! process, as a compiler's symbol table keeps names: a registry's
//! pre-releases and build-tagged releases, a few bytes each, bounded by
//! the distinct versions the process ever solved over.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::ops::Bound;
use std::sync::{LazyLock, RwLock};

use pubgrub::Ranges;
use semver::{BuildMetadata, Prerelease, Version};
use warg_depsolve_names::Track;

/// Bits per number in a packed version.
const BITS: u32 = 20;
const MAX: u64 = (1 << BITS) - 1;
/// Set in an interned version's integer (a packed one uses the low
/// `3 * BITS + 1` bits only).
const INTERNED: u64 = 1 << 63;

/// The `-0` pre-release, parsed once.
static ZERO: LazyLock<Prerelease> =
    LazyLock::new(|| Prerelease::new("0").expect("`0` is a pre-release"));

/// The interned versions, by index, and each one's index.
#[derive(Default)]
struct Interned {
    versions: Vec<&'static Version>,
    index: HashMap<&'static Version, u64>,
}

static TABLE: LazyLock<RwLock<Interned>> = LazyLock::new(Default::default);

/// A version as the solver hands it to pubgrub (see the module docs;
/// public only because pubgrub's traits name it, in a private module).
///
/// Either `major`, `minor` and `patch` in 20 bits each, then one bit (0
/// for the `-0` pre-release, 1 for the release itself); or
/// [`INTERNED`] and the version's index in the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ver(u64);

impl Ver {
    /// The solver's form of `version`.
    pub(crate) fn of(version: &Version) -> Ver {
        let fits = version.major <= MAX && version.minor <= MAX && version.patch <= MAX;
        let release = version.pre.is_empty();
        if fits && version.build.is_empty() && (release || version.pre == *ZERO) {
            let numbers = (version.major << (2 * BITS)) | (version.minor << BITS) | version.patch;
            Ver((numbers << 1) | u64::from(release))
        } else {
            Ver::intern(version)
        }
    }

    #[cold]
    #[inline(never)]
    fn intern(version: &Version) -> Ver {
        // Every update leaves the table whole: a poisoned lock is still good.
        if let Some(&i) = TABLE
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .index
            .get(version)
        {
            return Ver(INTERNED | i);
        }
        let mut table = TABLE.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = table.index.get(version) {
            return Ver(INTERNED | i);
        }
        let i = table.versions.len() as u64;
        let kept: &'static Version = Box::leak(Box::new(version.clone()));
        table.versions.push(kept);
        table.index.insert(kept, i);
        Ver(INTERNED | i)
    }

    /// The interned version this is, if it is one.
    fn interned(self) -> Option<&'static Version> {
        (self.0 & INTERNED != 0).then(|| {
            TABLE.read().unwrap_or_else(|e| e.into_inner()).versions[(self.0 & !INTERNED) as usize]
        })
    }

    /// `major.minor.patch-0`, packed, if the numbers fit.
    fn pre_zero(major: u64, minor: u64, patch: u64) -> Option<Ver> {
        (major <= MAX && minor <= MAX && patch <= MAX)
            .then_some(Ver(((major << (2 * BITS)) | (minor << BITS) | patch) << 1))
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
        Ver(1)
    }

    /// The `semver::Version` this is, borrowed when it is interned.
    pub(crate) fn version(&self) -> Cow<'static, Version> {
        if let Some(version) = self.interned() {
            return Cow::Borrowed(version);
        }
        let numbers = self.0 >> 1;
        Cow::Owned(Version {
            major: numbers >> (2 * BITS),
            minor: (numbers >> BITS) & MAX,
            patch: numbers & MAX,
            pre: match self.0 & 1 {
                0 => ZERO.clone(),
                _ => Prerelease::EMPTY,
            },
            build: BuildMetadata::EMPTY,
        })
    }
}

impl Ord for Ver {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if (self.0 | other.0) & INTERNED == 0 {
            self.0.cmp(&other.0)
        } else {
            self.cmp_slow(other)
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
        "1048575.0.0",
        "1048576.0.0-0",
        "1048576.0.0",
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
        let packed = |v: &Version| Ver::of(v).0 & INTERNED == 0;
        assert!(packed(&versions[5]));
        assert!(packed(&versions[13]));
        assert!(!packed(&versions[14]));
        assert!(!packed(&versions[3]));
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
        assert_eq!(Ver::track_bounds(Track::Major(1_048_575)), None);
    }
}
