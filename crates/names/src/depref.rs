//! Dependency references: the payload of an import's `external-id`.
//!
//! The grammar is the component model's former depname grammar, kept so that
//! strings written by older tools (warg, early wasm-tools) keep their meaning:
//!
//! ```text
//! depref    ::= 'unlocked-dep=<' pkgpath ('@' range)? '>'
//!             | 'locked-dep=<' pkgpath '@' semver '>' (',integrity=<' sri '>')?
//! range     ::= '*' | '{>=' semver '}' | '{<' semver '}'
//!             | '{>=' semver ' <' semver '}'
//!             | '{' cargo-requirement '}'        (an extension: ^1.2, ~1.2, =1.2.3, ...)
//! sri       ::= one or more space-separated 'sha256-'|'sha384-'|'sha512-' base64
//! ```
//!
//! Parsing and rendering are exact inverses on the values parsing produces:
//! `DepRef::parse(&r.to_string()) == Ok(r)`.

use std::fmt;

use base64::Engine as _;
use semver::{Comparator, Op, Version, VersionReq};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::package::PackageName;
use crate::version::{lowest_prerelease, write_version, VersionSet};

/// A parsed dependency reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DepRef {
    /// `unlocked-dep=<ns:pkg@range>`: any version in a range.
    Unlocked {
        /// The package depended on.
        package: PackageName,
        /// The accepted versions (`*` when the reference names none).
        range: DepRange,
    },
    /// `locked-dep=<ns:pkg@1.2.3>,integrity=<sha256-...>`: one exact release,
    /// optionally with the digests its bytes must match.
    Locked {
        /// The package depended on.
        package: PackageName,
        /// The exact version, pre-release and build metadata kept.
        version: Version,
        /// Accepted digests of the release's bytes (any one may match); empty
        /// when the reference carries no `integrity`.
        integrity: Vec<Integrity>,
    },
}

/// The version range of an unlocked reference.
///
/// The first four forms are the depname grammar; [`DepRange::Req`] is a
/// cargo-style requirement inside braces. Parsing always picks the first four
/// when the text fits them, so a `Req` never holds a requirement that would
/// render as one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DepRange {
    /// `*` (or no range at all): every version.
    Any,
    /// `{>=a}`.
    AtLeast(Version),
    /// `{<b}`.
    Below(Version),
    /// `{>=a <b}`.
    Between(Version, Version),
    /// `{^1.2}`, `{~1.2.3}`, `{=1.0.0}`, `{>=1, <3}`: cargo semantics.
    Req(VersionReq),
}

/// A parse failure: what was expected, and at which byte offset of the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid dependency reference `{input}`: expected {expected} at byte {offset}{}", found_suffix(.found))]
pub struct ParseError {
    /// The whole input.
    pub input: String,
    /// Byte offset in `input` where parsing failed.
    pub offset: usize,
    /// What the parser wanted there.
    pub expected: String,
    /// What it found instead (empty at end of input).
    pub found: String,
}

fn found_suffix(found: &str) -> String {
    if found.is_empty() {
        ", found end of input".to_string()
    } else {
        format!(", found `{found}`")
    }
}

/// A hash algorithm allowed in subresource-integrity strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    /// SHA-256 (32-byte digest).
    Sha256,
    /// SHA-384 (48-byte digest).
    Sha384,
    /// SHA-512 (64-byte digest).
    Sha512,
}

impl HashAlgorithm {
    /// The SRI / OCI prefix: `sha256`, `sha384`, `sha512`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(HashAlgorithm::Sha256),
            "sha384" => Some(HashAlgorithm::Sha384),
            "sha512" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }
}

/// One content digest: an algorithm and its raw digest bytes.
///
/// Renders as SRI (`sha256-<base64>`) with `Display`, and as an OCI digest
/// (`sha256:<hex>`) with [`Integrity::to_oci`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Integrity {
    /// The hash algorithm.
    pub algorithm: HashAlgorithm,
    /// The raw digest (length per algorithm).
    pub digest: Vec<u8>,
}

impl Integrity {
    /// The SHA-256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Self {
        Integrity {
            algorithm: HashAlgorithm::Sha256,
            digest: sha2::Sha256::digest(bytes).to_vec(),
        }
    }

    /// The digest of `bytes` under this integrity's algorithm.
    pub fn compute(algorithm: HashAlgorithm, bytes: &[u8]) -> Self {
        let digest = match algorithm {
            HashAlgorithm::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
            HashAlgorithm::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
            HashAlgorithm::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        };
        Integrity { algorithm, digest }
    }

    /// Whether `bytes` hash to this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        Self::compute(self.algorithm, bytes) == *self
    }

    /// The digest alone in lowercase hex, without its algorithm (as file
    /// names and SBOM hashes spell it).
    pub fn to_hex(&self) -> String {
        hex::encode(&self.digest)
    }

    /// OCI form: `sha256:<lowercase hex>`.
    pub fn to_oci(&self) -> String {
        format!("{}:{}", self.algorithm.name(), hex::encode(&self.digest))
    }

    /// Parses the OCI form `sha256:<hex>`.
    pub fn parse_oci(s: &str) -> Result<Self, String> {
        let err = |why: &str| format!("invalid digest `{s}`: {why}");
        let (alg, hex_digest) = s
            .split_once(':')
            .ok_or_else(|| err("expected `sha256:<hex>`"))?;
        let algorithm = HashAlgorithm::from_name(alg).ok_or_else(|| err("unknown algorithm"))?;
        if hex_digest.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(err("hex digits must be lowercase"));
        }
        let digest = hex::decode(hex_digest).map_err(|e| err(&e.to_string()))?;
        if digest.len() != algorithm.digest_len() {
            return Err(err(&format!(
                "{} digests are {} bytes, found {}",
                alg,
                algorithm.digest_len(),
                digest.len()
            )));
        }
        Ok(Integrity { algorithm, digest })
    }

    /// Parses one SRI token `sha256-<base64>`.
    pub fn parse_sri(s: &str) -> Result<Self, String> {
        let err = |why: String| format!("invalid integrity `{s}`: {why}");
        let (alg, b64) = s
            .split_once('-')
            .ok_or_else(|| err("expected `sha256-`, `sha384-` or `sha512-` and base64".into()))?;
        let algorithm = HashAlgorithm::from_name(alg)
            .ok_or_else(|| err(format!("unknown algorithm `{alg}`")))?;
        let digest = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| err(format!("bad base64: {e}")))?;
        if digest.len() != algorithm.digest_len() {
            return Err(err(format!(
                "{alg} digests are {} bytes, found {}",
                algorithm.digest_len(),
                digest.len()
            )));
        }
        Ok(Integrity { algorithm, digest })
    }
}

impl fmt::Display for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.algorithm.name(),
            base64::engine::general_purpose::STANDARD.encode(&self.digest)
        )
    }
}

impl Serialize for Integrity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.to_oci())
    }
}

impl<'de> Deserialize<'de> for Integrity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Parses the text where the deserializer has it, borrowed or
        /// transient (a `Cow<str>` would be copied into a `String` first).
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Integrity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a digest (`sha256:<hex>`) or an integrity (`sha256-<base64>`)")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Integrity, E> {
                Integrity::parse_oci(s)
                    .or_else(|_| Integrity::parse_sri(s))
                    .map_err(E::custom)
            }
        }
        d.deserialize_str(Text)
    }
}

impl DepRef {
    /// Parses a dependency reference.
    ///
    /// ```
    /// use warg_depsolve_names::{DepRange, DepRef};
    /// let r = DepRef::parse("unlocked-dep=<test:add@{>=1.0.0 <2.0.0}>").unwrap();
    /// assert!(matches!(r, DepRef::Unlocked { range: DepRange::Between(..), .. }));
    /// let err = DepRef::parse("unlocked-dep=<test:add@{>=1.0.0 <2}>").unwrap_err();
    /// assert_eq!(err.offset, 33); // the `2` that is not a full version
    /// ```
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Parser { input, pos: 0 }.depref()
    }

    /// Whether a string is meant as a dependency reference (it starts with
    /// one of the two keywords), whether or not it is well formed.
    pub fn looks_like(input: &str) -> bool {
        input.starts_with("unlocked-dep=") || input.starts_with("locked-dep=")
    }

    /// The package referred to.
    pub fn package(&self) -> &PackageName {
        match self {
            DepRef::Unlocked { package, .. } | DepRef::Locked { package, .. } => package,
        }
    }

    /// The versions this reference accepts.
    pub fn versions(&self) -> VersionSet {
        match self {
            DepRef::Unlocked { range, .. } => range.to_ranges(),
            DepRef::Locked { version, .. } => VersionSet::singleton(version.clone()),
        }
    }
}

impl fmt::Display for DepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepRef::Unlocked { package, range } => write!(f, "unlocked-dep=<{package}@{range}>"),
            DepRef::Locked {
                package,
                version,
                integrity,
            } => {
                write!(f, "locked-dep=<{package}@{version}>")?;
                if !integrity.is_empty() {
                    f.write_str(",integrity=<")?;
                    for (i, item) in integrity.iter().enumerate() {
                        if i > 0 {
                            f.write_str(" ")?;
                        }
                        write!(f, "{item}")?;
                    }
                    f.write_str(">")?;
                }
                Ok(())
            }
        }
    }
}

impl DepRange {
    /// The versions in this range, as a pubgrub version set.
    ///
    /// Exclusive upper bounds on a release (`<2.0.0`) stop before that
    /// release's pre-releases (`2.0.0-rc.1` is not "below 2.0.0" for a user),
    /// as cargo does. Which pre-releases a range may *choose* is a solver rule
    /// on top of this (see [`DepRange::names_prerelease_of`]).
    pub fn to_ranges(&self) -> VersionSet {
        match self {
            DepRange::Any => VersionSet::full(),
            DepRange::AtLeast(a) => VersionSet::higher_than(a.clone()),
            DepRange::Below(b) => VersionSet::strictly_lower_than(exclusive_upper(b)),
            DepRange::Between(a, b) => {
                // `{>=2.0.0 <1.0.0}` is well formed and simply empty.
                let hi = exclusive_upper(b);
                if *a < hi {
                    VersionSet::between(a.clone(), hi)
                } else {
                    VersionSet::empty()
                }
            }
            DepRange::Req(req) => req.comparators.iter().fold(VersionSet::full(), |acc, c| {
                acc.intersection(&comparator_ranges(c))
            }),
        }
    }

    /// Whether this range names a pre-release with the same
    /// major.minor.patch as `version` (the condition under which a solver may
    /// pick a pre-release).
    pub fn names_prerelease_of(&self, version: &Version) -> bool {
        let same = |v: &Version| {
            !v.pre.is_empty()
                && (v.major, v.minor, v.patch) == (version.major, version.minor, version.patch)
        };
        match self {
            DepRange::Any => false,
            DepRange::AtLeast(v) | DepRange::Below(v) => same(v),
            DepRange::Between(a, b) => same(a) || same(b),
            DepRange::Req(req) => req.comparators.iter().any(|c| {
                !c.pre.is_empty()
                    && (c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0))
                        == (version.major, version.minor, version.patch)
            }),
        }
    }
}

impl fmt::Display for DepRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepRange::Any => f.write_str("*"),
            DepRange::AtLeast(a) => {
                f.write_str("{>=")?;
                write_version(f, a)?;
                f.write_str("}")
            }
            DepRange::Below(b) => {
                f.write_str("{<")?;
                write_version(f, b)?;
                f.write_str("}")
            }
            DepRange::Between(a, b) => {
                f.write_str("{>=")?;
                write_version(f, a)?;
                f.write_str(" <")?;
                write_version(f, b)?;
                f.write_str("}")
            }
            DepRange::Req(req) => write!(f, "{{{req}}}"),
        }
    }
}

/// `<b` where `b` is a plain release excludes `b`'s pre-releases too.
fn exclusive_upper(b: &Version) -> Version {
    if b.pre.is_empty() {
        lowest_prerelease(b.clone())
    } else {
        b.clone()
    }
}

/// The versions matched by one cargo comparator, with cargo's rules for
/// partial versions (`^1.2` is `>=1.2.0, <2.0.0`; `<=1.2` is `<1.3.0`...).
fn comparator_ranges(c: &Comparator) -> VersionSet {
    let full = |minor: Option<u64>, patch: Option<u64>| Version {
        major: c.major,
        minor: minor.unwrap_or(0),
        patch: patch.unwrap_or(0),
        pre: c.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    };
    let lo = full(c.minor, c.patch);
    // The first version past the given prefix (for `=1.2` that is 1.3.0).
    let past_prefix = || match (c.minor, c.patch) {
        (None, _) => Version::new(c.major + 1, 0, 0),
        (Some(m), None) => Version::new(c.major, m + 1, 0),
        (Some(m), Some(p)) => Version::new(c.major, m, p + 1),
    };
    let upto = |hi: Version| VersionSet::between(lo.clone(), lowest_prerelease(hi));
    match c.op {
        Op::Exact | Op::Wildcard => match (c.minor, c.patch) {
            (Some(_), Some(_)) => VersionSet::singleton(lo),
            _ => upto(past_prefix()),
        },
        Op::Greater => match (c.minor, c.patch) {
            (Some(_), Some(_)) => VersionSet::strictly_higher_than(lo),
            _ => VersionSet::higher_than(past_prefix()),
        },
        Op::GreaterEq => VersionSet::higher_than(lo),
        Op::Less => VersionSet::strictly_lower_than(exclusive_upper(&lo)),
        Op::LessEq => match (c.minor, c.patch) {
            (Some(_), Some(_)) => VersionSet::lower_than(lo),
            _ => VersionSet::strictly_lower_than(lowest_prerelease(past_prefix())),
        },
        Op::Tilde => match c.minor {
            None => upto(Version::new(c.major + 1, 0, 0)),
            Some(m) => upto(Version::new(c.major, m + 1, 0)),
        },
        Op::Caret => match (c.major, c.minor, c.patch) {
            (0, None, _) => upto(Version::new(1, 0, 0)),
            (0, Some(0), None) => upto(Version::new(0, 1, 0)),
            (0, Some(0), Some(p)) => upto(Version::new(0, 0, p + 1)),
            (0, Some(m), _) => upto(Version::new(0, m + 1, 0)),
            (major, _, _) => upto(Version::new(major + 1, 0, 0)),
        },
        // `Op` is non-exhaustive; a future operator is refused by the parser
        // before it gets here (see `Parser::range`).
        _ => VersionSet::empty(),
    }
}

/// Stores a cargo requirement that means exactly a depname form as that
/// form (`>= 1.0.0` is `{>=1.0.0}`), and an empty one as `*`.
fn normalize_req(req: VersionReq) -> DepRange {
    let full = |c: &Comparator| -> Option<Version> {
        Some(Version {
            major: c.major,
            minor: c.minor?,
            patch: c.patch?,
            pre: c.pre.clone(),
            build: semver::BuildMetadata::EMPTY,
        })
    };
    match &req.comparators[..] {
        [] => DepRange::Any,
        [c] if c.op == Op::GreaterEq && full(c).is_some() => DepRange::AtLeast(full(c).unwrap()),
        [c] if c.op == Op::Less && full(c).is_some() => DepRange::Below(full(c).unwrap()),
        [a, b]
            if a.op == Op::GreaterEq
                && b.op == Op::Less
                && full(a).is_some()
                && full(b).is_some() =>
        {
            DepRange::Between(full(a).unwrap(), full(b).unwrap())
        }
        _ => DepRange::Req(req),
    }
}

fn op_supported(op: Op) -> bool {
    matches!(
        op,
        Op::Exact
            | Op::Wildcard
            | Op::Greater
            | Op::GreaterEq
            | Op::Less
            | Op::LessEq
            | Op::Tilde
            | Op::Caret
    )
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn fail<T>(&self, at: usize, expected: impl Into<String>) -> Result<T, ParseError> {
        let found: String = self.input[at..].chars().take(12).collect();
        Err(ParseError {
            input: self.input.to_string(),
            offset: at,
            expected: expected.into(),
            found,
        })
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), ParseError> {
        if self.eat(token) {
            Ok(())
        } else {
            self.fail(self.pos, format!("`{token}`"))
        }
    }

    /// Takes bytes up to (not including) the first of `stops`, or to the end.
    fn take_until(&mut self, stops: &[char]) -> (usize, &'a str) {
        let start = self.pos;
        let len = self.rest().find(stops).unwrap_or(self.rest().len());
        self.pos += len;
        (start, &self.input[start..self.pos])
    }

    fn depref(mut self) -> Result<DepRef, ParseError> {
        let dep = if self.eat("unlocked-dep=<") {
            let package = self.package()?;
            let range = if self.eat("@") {
                self.range()?
            } else {
                DepRange::Any
            };
            self.expect(">")?;
            DepRef::Unlocked { package, range }
        } else if self.eat("locked-dep=<") {
            let package = self.package()?;
            self.expect("@")?;
            let version = self.version(&['>'])?;
            self.expect(">")?;
            let integrity = if self.eat(",integrity=<") {
                let list = self.sri()?;
                self.expect(">")?;
                list
            } else {
                Vec::new()
            };
            DepRef::Locked {
                package,
                version,
                integrity,
            }
        } else {
            return self.fail(0, "`unlocked-dep=<` or `locked-dep=<`");
        };
        if self.pos != self.input.len() {
            return self.fail(self.pos, "end of the reference");
        }
        Ok(dep)
    }

    fn package(&mut self) -> Result<PackageName, ParseError> {
        let (start, text) = self.take_until(&['@', '>']);
        if text.contains('/') {
            return self.fail(
                start + text.find('/').unwrap(),
                "`@` or `>` (nested package paths are not supported)",
            );
        }
        text.parse::<PackageName>().or_else(|e| {
            self.fail(
                start,
                format!("a package name `namespace:name` ({})", e.reason),
            )
        })
    }

    fn version(&mut self, stops: &[char]) -> Result<Version, ParseError> {
        let (start, text) = self.take_until(stops);
        Version::parse(text)
            .or_else(|e| self.fail(start, format!("a full semver version like `1.2.3` ({e})")))
    }

    fn range(&mut self) -> Result<DepRange, ParseError> {
        if self.eat("*") {
            return Ok(DepRange::Any);
        }
        self.expect("{")?;
        let body_start = self.pos;
        let body_len = match self.rest().find('}') {
            Some(n) => n,
            None => return self.fail(self.input.len(), "`}` closing the version range"),
        };
        let body = &self.input[body_start..body_start + body_len];
        let range = self.range_body(body_start, body)?;
        self.pos = body_start + body_len + 1;
        Ok(range)
    }

    /// The text between `{` and `}`: one of the depname forms when it fits
    /// one, else a cargo-style requirement. A cargo requirement that means
    /// exactly a depname form is stored as that form, so rendering and
    /// re-parsing give back the same value.
    fn range_body(&self, start: usize, body: &str) -> Result<DepRange, ParseError> {
        let depname = self.depname_range(start, body);
        let depname_err = match depname {
            Some(Ok(range)) => return Ok(range),
            Some(Err(e)) => Some(e),
            None => None,
        };
        match VersionReq::parse(body) {
            Ok(req) => {
                if let Some(c) = req.comparators.iter().find(|c| !op_supported(c.op)) {
                    return self.fail(start, format!("a supported operator, not `{:?}`", c.op));
                }
                Ok(normalize_req(req))
            }
            Err(e) => match depname_err {
                Some(err) => Err(err),
                None => self.fail(
                    start,
                    format!("`>=a`, `<b`, `>=a <b` or a cargo-style requirement ({e})"),
                ),
            },
        }
    }

    /// The depname range forms; `None` when `body` does not start like one.
    fn depname_range(&self, start: usize, body: &str) -> Option<Result<DepRange, ParseError>> {
        let at = |offset: usize| Parser {
            input: self.input,
            pos: start + offset,
        };
        if let Some(rest) = body.strip_prefix(">=") {
            if rest.starts_with([' ', '=']) || rest.contains(',') {
                return None;
            }
            return Some(match rest.split_once(' ') {
                None => at(2).version_str(rest).map(DepRange::AtLeast),
                Some((a, b)) => (|| {
                    let lo = at(2).version_str(a)?;
                    let Some(b) = b.strip_prefix('<') else {
                        return self.fail(start + 3 + a.len(), "`<` and an upper bound");
                    };
                    let hi = at(4 + a.len()).version_str(b)?;
                    Ok(DepRange::Between(lo, hi))
                })(),
            });
        }
        if let Some(rest) = body.strip_prefix('<') {
            if rest.starts_with(['=', ' ']) || rest.contains(',') {
                return None;
            }
            return Some(at(1).version_str(rest).map(DepRange::Below));
        }
        None
    }

    /// Parses `text`, which starts at `self.pos`, as a full version.
    fn version_str(&self, text: &str) -> Result<Version, ParseError> {
        Version::parse(text).or_else(|e| {
            self.fail(
                self.pos,
                format!("a full semver version like `1.2.3` ({e})"),
            )
        })
    }

    fn sri(&mut self) -> Result<Vec<Integrity>, ParseError> {
        let (start, text) = self.take_until(&['>']);
        if text.is_empty() {
            return self.fail(
                start,
                "one or more `sha256-`, `sha384-` or `sha512-` digests",
            );
        }
        let mut list = Vec::new();
        let mut offset = start;
        for token in text.split(' ') {
            match Integrity::parse_sri(token) {
                Ok(i) => list.push(i),
                Err(why) => {
                    return self.fail(
                        offset,
                        format!("a `sha256-`, `sha384-` or `sha512-` base64 digest ({why})"),
                    )
                }
            }
            offset += token.len() + 1;
        }
        Ok(list)
    }
}
