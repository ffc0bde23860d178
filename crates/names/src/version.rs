//! Canonical version tracks and the version sets the solver works with.

use std::fmt;

use semver::{Prerelease, Version};
use serde::{Deserialize, Serialize};

/// A set of versions, as pubgrub represents it.
pub type VersionSet = pubgrub::Ranges<Version>;

/// The canonical track of a version: the part that must match for two
/// versioned interface names to link.
///
/// Per the component model: the major version when it is at least 1; else
/// `0.minor` when minor is at least 1; else `0.0.patch`. Pre-release and build
/// metadata do not change the track.
///
/// ```
/// use semver::Version;
/// use warg_depsolve_names::Track;
/// let track = |s| Track::of(&Version::parse(s).unwrap()).to_string();
/// assert_eq!(track("1.2.3"), "1");
/// assert_eq!(track("0.2.6-rc.1"), "0.2");
/// assert_eq!(track("0.0.4"), "0.0.4");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Track {
    /// `major` >= 1.
    Major(u64),
    /// `0.minor` with minor >= 1.
    Minor(u64),
    /// `0.0.patch`.
    Patch(u64),
}

impl Track {
    /// The track a version belongs to.
    pub fn of(version: &Version) -> Self {
        match (version.major, version.minor) {
            (0, 0) => Track::Patch(version.patch),
            (0, minor) => Track::Minor(minor),
            (major, _) => Track::Major(major),
        }
    }

    /// Every version on this track, pre-releases included, as a half-open
    /// range `[start-0, next-0)`.
    ///
    /// The last numbers have no next one: `u64::MAX.x.y` is unbounded
    /// above, `0.u64::MAX` ends where `1.0.0` begins, `0.0.u64::MAX` where
    /// `0.1.0` does.
    ///
    /// ```
    /// use semver::Version;
    /// use warg_depsolve_names::Track;
    /// let max = Version::new(u64::MAX, 3, 0);
    /// assert!(Track::of(&max).versions().contains(&max));
    /// assert!(!Track::Minor(u64::MAX).versions().contains(&Version::new(1, 0, 0)));
    /// ```
    pub fn versions(self) -> VersionSet {
        let (lo, hi) = match self {
            Track::Major(m) => (
                Version::new(m, 0, 0),
                m.checked_add(1).map(|n| Version::new(n, 0, 0)),
            ),
            Track::Minor(m) => (
                Version::new(0, m, 0),
                Some(
                    m.checked_add(1)
                        .map_or(Version::new(1, 0, 0), |n| Version::new(0, n, 0)),
                ),
            ),
            Track::Patch(p) => (
                Version::new(0, 0, p),
                Some(
                    p.checked_add(1)
                        .map_or(Version::new(0, 1, 0), |n| Version::new(0, 0, n)),
                ),
            ),
        };
        match hi {
            Some(hi) => VersionSet::between(lowest_prerelease(lo), lowest_prerelease(hi)),
            None => VersionSet::higher_than(lowest_prerelease(lo)),
        }
    }
}

/// The smallest version that shares `v`'s major.minor.patch: `v-0`.
///
/// No pre-release sorts before `0`, so `[lowest_prerelease(a), ...)` includes
/// every pre-release of `a`, and `< lowest_prerelease(b)` excludes all of
/// `b`'s.
pub fn lowest_prerelease(mut v: Version) -> Version {
    // Parsed once: every caret range's upper bound is built with it.
    static ZERO: std::sync::OnceLock<Prerelease> = std::sync::OnceLock::new();
    v.pre = ZERO
        .get_or_init(|| Prerelease::new("0").expect("`0` is a valid pre-release"))
        .clone();
    v.build = semver::BuildMetadata::EMPTY;
    v
}

/// Writes `version` as [`Version`]'s `Display` does (`1.2.3-rc.1+build`),
/// without the formatting machinery (padding, width) that `Display`
/// supports and nobody here uses: solving writes one per requirement it
/// records.
///
/// ```
/// let mut out = String::new();
/// let v = semver::Version::parse("10.0.3-rc.1+b7").unwrap();
/// warg_depsolve_names::write_version(&mut out, &v).unwrap();
/// assert_eq!(out, v.to_string());
/// ```
pub fn write_version(out: &mut impl fmt::Write, version: &Version) -> fmt::Result {
    fn number(out: &mut impl fmt::Write, mut n: u64) -> fmt::Result {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.write_str(std::str::from_utf8(&digits[start..]).expect("ASCII digits"))
    }
    number(out, version.major)?;
    out.write_char('.')?;
    number(out, version.minor)?;
    out.write_char('.')?;
    number(out, version.patch)?;
    if !version.pre.is_empty() {
        out.write_char('-')?;
        out.write_str(version.pre.as_str())?;
    }
    if !version.build.is_empty() {
        out.write_char('+')?;
        out.write_str(version.build.as_str())?;
    }
    Ok(())
}

impl fmt::Display for Track {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Track::Major(m) => write!(f, "{m}"),
            Track::Minor(m) => write!(f, "0.{m}"),
            Track::Patch(p) => write!(f, "0.0.{p}"),
        }
    }
}

impl From<Track> for String {
    fn from(t: Track) -> String {
        t.to_string()
    }
}

impl TryFrom<String> for Track {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl std::str::FromStr for Track {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid track `{s}`: expected `N`, `0.N` or `0.0.N`");
        let parts: Vec<u64> = s
            .split('.')
            .map(|p| p.parse::<u64>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        match parts[..] {
            [m] if m >= 1 => Ok(Track::Major(m)),
            [0, m] if m >= 1 => Ok(Track::Minor(m)),
            [0, 0, p] => Ok(Track::Patch(p)),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn tracks_follow_the_spec() {
        assert_eq!(Track::of(&v("1.2.3")), Track::Major(1));
        assert_eq!(Track::of(&v("0.2.6-rc.1")), Track::Minor(2));
        assert_eq!(Track::of(&v("0.0.4")), Track::Patch(4));
        assert_eq!(Track::of(&v("2.0.0-alpha+build.5")), Track::Major(2));
        for t in ["1", "0.2", "0.0.4"] {
            assert_eq!(t.parse::<Track>().unwrap().to_string(), t);
        }
        for bad in ["0", "0.0", "1.2", "x", "0.1.2"] {
            assert!(bad.parse::<Track>().is_err(), "{bad}");
        }
    }

    #[test]
    fn track_range_holds_exactly_its_versions() {
        let one = Track::Major(1).versions();
        for inside in ["1.0.0-0", "1.0.0-rc.1", "1.0.0", "1.99.3+b", "1.9.9-beta"] {
            assert!(one.contains(&v(inside)), "{inside}");
        }
        for outside in ["0.9.9", "2.0.0-rc.1", "2.0.0", "0.1.0"] {
            assert!(!one.contains(&v(outside)), "{outside}");
        }
        let zero_two = Track::Minor(2).versions();
        assert!(zero_two.contains(&v("0.2.6-rc.1")));
        assert!(!zero_two.contains(&v("0.3.0-rc.1")));
        let patch = Track::Patch(4).versions();
        assert!(patch.contains(&v("0.0.4")));
        assert!(!patch.contains(&v("0.0.5")));
    }
}
