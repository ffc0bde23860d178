//! Registry package names (`namespace:name`).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A registry package name such as `test:add`.
///
/// Both halves are component-model labels: kebab-case words of ASCII
/// letters and digits (`[a-z][a-z0-9]*` or an all-caps acronym), joined by
/// single hyphens. That grammar is also what makes a name safe to use as a
/// path segment: no `/`, `\`, `.`, `..`, NUL or absolute path can pass it.
///
/// ```
/// use warg_depsolve_names::PackageName;
/// let name: PackageName = "test:add".parse().unwrap();
/// assert_eq!((name.namespace(), name.name()), ("test", "add"));
/// assert!("../etc:passwd".parse::<PackageName>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PackageName {
    /// `namespace:name`, shared: a name is cloned into every map, solver
    /// node and resolution that holds it, and a clone is then a reference
    /// count rather than two strings. (Labels hold no `:`, so equal text
    /// is equal labels.)
    full: Arc<str>,
    /// Where the `:` is in `full`.
    colon: usize,
}

/// Why a string is not a valid [`PackageName`] or label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid package name `{input}`: {reason}")]
pub struct PackageNameError {
    /// The rejected input.
    pub input: String,
    /// What was wrong with it.
    pub reason: String,
}

impl PackageName {
    /// Builds a package name from its two labels, validating both.
    pub fn new(namespace: &str, name: &str) -> Result<Self, PackageNameError> {
        // The input is spelled out only for an error: names are parsed on
        // every warm solve's hot path.
        for (what, label) in [("namespace", namespace), ("name", name)] {
            validate_label(label).map_err(|why| PackageNameError {
                input: format!("{namespace}:{name}"),
                reason: format!("{what} {why}"),
            })?;
        }
        let mut full = String::with_capacity(namespace.len() + 1 + name.len());
        full.push_str(namespace);
        full.push(':');
        full.push_str(name);
        Ok(Self {
            full: full.into(),
            colon: namespace.len(),
        })
    }

    /// The namespace label (`test` in `test:add`).
    pub fn namespace(&self) -> &str {
        &self.full[..self.colon]
    }

    /// The package label (`add` in `test:add`).
    pub fn name(&self) -> &str {
        &self.full[self.colon + 1..]
    }
}

/// Namespace first, then name (not the text's order: `a-b:x` sorts after
/// `a:x`, as the labels do).
impl Ord for PackageName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.namespace(), self.name()).cmp(&(other.namespace(), other.name()))
    }
}

impl PartialOrd for PackageName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackageName")
            .field("namespace", &self.namespace())
            .field("name", &self.name())
            .finish()
    }
}

/// Checks one component-model label: `fragment ('-' fragment)*` where a
/// fragment is `[a-z][a-z0-9]*` or `[A-Z][A-Z0-9]*`.
pub fn validate_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("is empty".into());
    }
    for fragment in label.split('-') {
        let mut chars = fragment.chars();
        let Some(first) = chars.next() else {
            return Err(format!(
                "`{label}` has an empty word (leading, trailing or doubled `-`)"
            ));
        };
        let lower = first.is_ascii_lowercase();
        if !(lower || first.is_ascii_uppercase()) {
            return Err(format!(
                "`{label}`: each word must start with an ASCII letter, found `{first}`"
            ));
        }
        for c in chars {
            let ok = c.is_ascii_digit()
                || (lower && c.is_ascii_lowercase())
                || (!lower && c.is_ascii_uppercase());
            if !ok {
                return Err(format!(
                    "`{label}`: unexpected character `{}` (labels are kebab-case ASCII letters and digits)",
                    c.escape_default()
                ));
            }
        }
    }
    Ok(())
}

impl FromStr for PackageName {
    type Err = PackageNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((namespace, name)) = s.split_once(':') else {
            return Err(PackageNameError {
                input: s.to_string(),
                reason: "expected `namespace:name`".into(),
            });
        };
        Self::new(namespace, name)
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl Serialize for PackageName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PackageName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Borrowed from the input when it has no escapes (no copy).
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_namespace_then_name() {
        let names: Vec<PackageName> = ["a-b:x", "a:y", "a:x-y", "a:x", "b:a"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        let by_labels = |n: &PackageName| (n.namespace().to_string(), n.name().to_string());
        let mut expected = names.clone();
        expected.sort_by_key(by_labels);
        assert_eq!(sorted, expected);
        assert_eq!(sorted[0].to_string(), "a:x");
        assert_eq!(sorted.last().unwrap().to_string(), "b:a");
    }

    #[test]
    fn accepts_kebab_labels() {
        for ok in [
            "test:add",
            "wasi:cli",
            "acme:kv-store2",
            "my-ns:HTTP-client",
        ] {
            assert!(ok.parse::<PackageName>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_anything_that_could_be_a_path() {
        for bad in [
            "test", "test:", ":add", "../x:y", "x:../y", "x:y/z", "x:y\\z", "/abs:y", "x:y\0",
            "x:a--b", "x:-a", "x:a-", "x:1a", "x:aB", "x:y.z", "x:y:z",
        ] {
            let err = bad.parse::<PackageName>().unwrap_err();
            assert!(err.to_string().contains("invalid package name"), "{err}");
        }
    }
}
