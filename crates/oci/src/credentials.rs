//! Where an OCI registry's credentials come from: the places users already
//! keep them, looked up in the order wkg 0.16's client looks them up
//! (`wasm-pkg-client`, `oci/mod.rs`), so one login serves both tools:
//!
//! 1. the environment variable `WKG_REGISTRY_<HOST>_AUTH_BEARER`, a bearer
//!    token (`<HOST>` is the registry host, port included, upper-cased, every
//!    character but ASCII letters and digits made `_`:
//!    `WKG_REGISTRY_GHCR_IO_AUTH_BEARER`, `WKG_REGISTRY_LOCALHOST_5000_AUTH_BEARER`);
//! 2. the configuration's `auth` (`[registry."HOST".oci] auth = ...`);
//! 3. Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else
//!    `~/.docker/config.json`): its `credHelpers` entry for the host, an
//!    `auths` entry, or its `credsStore`, as `docker login` left them
//!    (helpers are the `docker-credential-<name>` programs on `PATH`); first
//!    under the host, then under `https://<host>`.
//!
//! Found credentials are never sent in clear text to another machine: for
//! a registry reached over plain HTTP (`protocol = "http"`) that is not on
//! loopback, the environment and Docker are not consulted (the table's
//! `auth` is refused there when the configuration is read).
//!
//! Nothing found means anonymous access. A Docker lookup that fails (no
//! config file, no entry, a helper that exits with an error) is not an error
//! by itself, as with wkg: public registries need no credentials. What was
//! found, or why nothing usable was, is kept as an [`Origin`] so that a
//! registry's refusal can say where the credentials it refused came from.
//!
//! Secrets never leave this module in text: [`Origin`] names places, never
//! values, and oci-client's `RegistryAuth` redacts itself in `Debug`.

use std::fmt;

use docker_credential::{CredentialRetrievalError, DockerCredential};
use oci_client::secrets::RegistryAuth;

use crate::settings::{is_loopback, OciSettings};

/// The credentials for one registry and where they came from.
pub(crate) struct Credentials {
    /// What is sent.
    pub(crate) auth: RegistryAuth,
    /// Where it came from.
    pub(crate) origin: Origin,
}

/// Where a registry's credentials came from (never the secret itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Nothing configured anywhere: anonymous access.
    Anonymous,
    /// Plain HTTP to another machine: nothing is looked up, nothing sent.
    ClearText,
    /// A bearer token from this environment variable.
    Environment(String),
    /// The configuration's `auth`.
    Config,
    /// Docker's `config.json` (an `auths` entry, or the credential helper
    /// it names), under this key (`ghcr.io`, `https://ghcr.io`).
    Docker {
        /// The key the entry was found under.
        key: String,
    },
    /// Docker's `config.json` has an entry that cannot be used (an
    /// identity token, which needs an OAuth exchange oci-client does not
    /// do; a malformed `auth`); access is anonymous.
    DockerUnusable {
        /// The key the entry was found under.
        key: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Anonymous => write!(f, "no credentials found (anonymous)"),
            Origin::ClearText => write!(
                f,
                "none (plain HTTP to a host that is not loopback never carries credentials)"
            ),
            Origin::Environment(var) => write!(f, "a bearer token from ${var}"),
            Origin::Config => write!(f, "`auth` in the configuration"),
            Origin::Docker { key } => write!(f, "Docker's config.json (`{key}`)"),
            Origin::DockerUnusable { key, reason } => write!(
                f,
                "no usable credentials: Docker's config.json entry `{key}` is {reason} (anonymous)"
            ),
        }
    }
}

/// The environment variable wkg reads a bearer token for `host` from.
///
/// ```
/// use warg_depsolve_oci::credentials::bearer_variable;
/// assert_eq!(bearer_variable("ghcr.io"), "WKG_REGISTRY_GHCR_IO_AUTH_BEARER");
/// assert_eq!(bearer_variable("localhost:5000"), "WKG_REGISTRY_LOCALHOST_5000_AUTH_BEARER");
/// ```
pub fn bearer_variable(host: &str) -> String {
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("WKG_REGISTRY_{host}_AUTH_BEARER")
}

/// The credentials for the registry of `settings` from this process's
/// environment, the configured `auth` and Docker's configuration (see the
/// module docs).
pub(crate) fn find(settings: &OciSettings) -> Credentials {
    if settings.plain_http && !is_loopback(&settings.host) {
        return Credentials {
            auth: RegistryAuth::Anonymous,
            origin: Origin::ClearText,
        };
    }
    find_with(
        &settings.host,
        settings.credentials.as_ref(),
        |var| std::env::var(var).ok(),
        docker_credential::get_credential,
    )
}

/// [`find`] over a given environment and Docker lookup.
fn find_with(
    host: &str,
    configured: Option<&(String, String)>,
    env: impl Fn(&str) -> Option<String>,
    docker: impl Fn(&str) -> Result<DockerCredential, CredentialRetrievalError>,
) -> Credentials {
    let var = bearer_variable(host);
    if let Some(token) = env(&var).filter(|t| !t.is_empty()) {
        return Credentials {
            auth: RegistryAuth::Bearer(token),
            origin: Origin::Environment(var),
        };
    }
    if let Some((user, password)) = configured {
        return Credentials {
            auth: RegistryAuth::Basic(user.clone(), password.clone()),
            origin: Origin::Config,
        };
    }
    for key in [host.to_string(), format!("https://{host}")] {
        let unusable = |reason| Credentials {
            auth: RegistryAuth::Anonymous,
            origin: Origin::DockerUnusable {
                key: key.clone(),
                reason,
            },
        };
        match docker(&key) {
            Ok(DockerCredential::UsernamePassword(user, password)) => {
                return Credentials {
                    auth: RegistryAuth::Basic(user, password),
                    origin: Origin::Docker { key },
                }
            }
            Ok(DockerCredential::IdentityToken(_)) => {
                return unusable("an identity token, which is not supported")
            }
            Err(
                CredentialRetrievalError::CredentialDecodingError
                | CredentialRetrievalError::CredentialMismatchError,
            ) => {
                return unusable("malformed (its `auth` does not decode to its user and password)")
            }
            // Nothing there, or nothing that answered: look further, then
            // go anonymous, as wkg does.
            Err(_) => {}
        }
    }
    Credentials {
        auth: RegistryAuth::Anonymous,
        origin: Origin::Anonymous,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn no_docker(_: &str) -> Result<DockerCredential, CredentialRetrievalError> {
        Err(CredentialRetrievalError::ConfigNotFound)
    }

    fn basic(c: &Credentials) -> Option<(&str, &str)> {
        match &c.auth {
            RegistryAuth::Basic(u, p) => Some((u, p)),
            _ => None,
        }
    }

    #[test]
    fn the_environment_wins_then_the_config_then_docker() {
        let configured = ("me".to_string(), "conf-pw".to_string());
        let env = |var: &str| {
            (var == "WKG_REGISTRY_127_0_0_1_5000_AUTH_BEARER").then(|| "tok".to_string())
        };
        let docker = |_: &str| {
            Ok(DockerCredential::UsernamePassword(
                "d".into(),
                "docker-pw".into(),
            ))
        };

        let c = find_with("127.0.0.1:5000", Some(&configured), env, docker);
        assert!(matches!(&c.auth, RegistryAuth::Bearer(t) if t == "tok"));
        assert_eq!(
            c.origin,
            Origin::Environment("WKG_REGISTRY_127_0_0_1_5000_AUTH_BEARER".into())
        );

        let c = find_with("127.0.0.1:5000", Some(&configured), no_env, docker);
        assert_eq!(basic(&c), Some(("me", "conf-pw")));
        assert_eq!(c.origin, Origin::Config);

        let c = find_with("127.0.0.1:5000", None, no_env, docker);
        assert_eq!(basic(&c), Some(("d", "docker-pw")));

        let c = find_with("127.0.0.1:5000", None, no_env, no_docker);
        assert!(matches!(c.auth, RegistryAuth::Anonymous));
        assert_eq!(c.origin, Origin::Anonymous);
    }

    #[test]
    fn plain_http_to_another_machine_carries_nothing() {
        let mut settings = OciSettings::new("registry.example.com");
        settings.plain_http = true;
        let c = find(&settings);
        assert!(matches!(c.auth, RegistryAuth::Anonymous));
        assert_eq!(c.origin, Origin::ClearText);
    }

    #[test]
    fn an_empty_token_is_no_token() {
        let c = find_with("ghcr.io", None, |_| Some(String::new()), no_docker);
        assert_eq!(c.origin, Origin::Anonymous);
    }

    #[test]
    fn docker_is_asked_under_the_host_then_its_https_url() {
        let asked = std::cell::RefCell::new(Vec::new());
        let docker = |key: &str| {
            asked.borrow_mut().push(key.to_string());
            if key == "https://ghcr.io" {
                Ok(DockerCredential::UsernamePassword("u".into(), "p".into()))
            } else {
                Err(CredentialRetrievalError::NoCredentialConfigured)
            }
        };
        let c = find_with("ghcr.io", None, no_env, docker);
        assert_eq!(*asked.borrow(), ["ghcr.io", "https://ghcr.io"]);
        assert_eq!(
            c.origin,
            Origin::Docker {
                key: "https://ghcr.io".into()
            }
        );
    }

    #[test]
    fn unusable_docker_entries_say_why_and_never_show_secrets() {
        let docker = |_: &str| Ok(DockerCredential::IdentityToken("s3cret".into()));
        let c = find_with("ghcr.io", None, no_env, docker);
        assert!(matches!(c.auth, RegistryAuth::Anonymous));
        let text = c.origin.to_string();
        assert!(text.contains("identity token"), "{text}");
        assert!(!text.contains("s3cret"));
        let c = find_with(
            "ghcr.io",
            Some(&("u".into(), "hunter2".into())),
            no_env,
            no_docker,
        );
        assert!(!format!("{} {:?}", c.origin, c.auth).contains("hunter2"));
    }
}
