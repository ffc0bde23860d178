//! How errors are shown: one policy for every crate of the workspace.
//!
//! An error's own message says what failed and names what it is about (the
//! package, the file); its cause is its [`source`](std::error::Error::source),
//! never also repeated in its message. Whoever shows an error to a person
//! shows the whole chain, as [`chain`] renders it (`anyhow`'s `{:#}` does
//! the same).

use std::error::Error;

/// `error: cause: cause's cause`, the whole chain of `error` on one line.
///
/// ```
/// use warg_depsolve_names::{classify, error::chain};
/// let err = classify("inc", Some("unlocked-dep=<test:inc@{>=x}>")).unwrap_err();
/// assert!(chain(&err).starts_with("import `inc`: "));
/// assert!(!err.to_string().contains(": "), "the cause is not in the message");
/// ```
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}
