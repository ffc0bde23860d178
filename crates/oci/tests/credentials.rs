//! Credentials found where users keep them, against a registry that
//! demands them: Debian's `docker-registry` with htpasswd authentication,
//! plain HTTP on loopback.
//!
//! One test function on purpose: it changes this process's environment
//! (`DOCKER_CONFIG`, `PATH`, `WKG_REGISTRY_*`), which no other test may
//! read at the same time, and this file is its own test binary.

mod common;

use std::path::Path;

use base64::Engine;
use common::*;
use warg_depsolve_oci::credentials::bearer_variable;
use warg_depsolve_oci::OciSource;
use warg_depsolve_registry::{Publish, Source, SourceError};

const USER: &str = "wdtest";
const PASSWORD: &str = "interop-secret";
/// `wdtest:interop-secret`, bcrypt (cost 5), made once with Python's
/// `bcrypt.hashpw`: the distribution registry reads bcrypt only.
const HTPASSWD: &str = "wdtest:$2b$05$uRN.LoDvSr72UxVBlqAR5O5JGK2F.T7tU1M.qI1GLObbxVVtz39EG\n";

fn source(server: &RegistryServer, credentials: Option<(&str, &str)>) -> OciSource {
    let mut settings = server.settings();
    settings.credentials = credentials.map(|(u, p)| (u.to_string(), p.to_string()));
    OciSource::new("secured", settings).unwrap()
}

fn refusal(result: Result<impl std::fmt::Debug, SourceError>) -> String {
    let err = result.expect_err("the registry should refuse");
    let text = warg_depsolve_names::error::chain(&err);
    assert!(text.contains("did not authorize"), "{text}");
    assert!(!text.contains(PASSWORD), "a secret was printed: {text}");
    text
}

fn write_docker_config(dir: &Path, json: &str) {
    std::fs::write(dir.join("config.json"), json).unwrap();
}

#[test]
fn credentials_come_from_the_environment_the_config_and_docker() {
    let server = RegistryServer::start_with_htpasswd(HTPASSWD);
    let host = server.host();
    let (package, version, bytes) = fixtures().into_iter().next().unwrap();
    let (package, version) = (package.parse().unwrap(), version.parse().unwrap());

    // No Docker configuration at all, and no token in the environment.
    let docker = tempfile::tempdir().unwrap();
    std::env::set_var("DOCKER_CONFIG", docker.path());
    std::env::remove_var(bearer_variable(&host));

    // Anonymous: refused, and the refusal says no credentials were found.
    let text = refusal(source(&server, None).publish(&package, &version, &bytes));
    assert!(text.contains("no credentials found"), "{text}");

    // The configuration's `auth`.
    source(&server, Some((USER, PASSWORD)))
        .publish(&package, &version, &bytes)
        .unwrap();
    let text = refusal(source(&server, Some((USER, "wrong"))).versions(&package));
    assert!(text.contains("`auth` in the configuration"), "{text}");

    // Docker's config.json `auths`, under the host.
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    write_docker_config(
        docker.path(),
        &format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#),
    );
    let listed = source(&server, None).versions(&package).unwrap();
    assert_eq!(listed.releases[0].version, version);

    // A credential helper named by `credHelpers`, found on PATH.
    let bin = tempfile::tempdir().unwrap();
    let helper = bin.path().join("docker-credential-wdtest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nserver=$(cat)\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n"
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.path().to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    std::env::set_var("PATH", std::env::join_paths(dirs).unwrap());
    write_docker_config(
        docker.path(),
        &format!(r#"{{"credHelpers": {{"{host}": "wdtest"}}}}"#),
    );
    let listed = source(&server, None).versions(&package).unwrap();
    assert_eq!(listed.releases[0].version, version);
    // A helper that fails is no credentials (as with wkg), not a crash.
    write_docker_config(
        docker.path(),
        &format!(r#"{{"credHelpers": {{"{host}": "missing-helper"}}}}"#),
    );
    let text = refusal(source(&server, None).versions(&package));
    assert!(text.contains("no credentials found"), "{text}");

    // The configuration's `auth` comes before Docker's.
    write_docker_config(
        docker.path(),
        &format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#),
    );
    let text = refusal(source(&server, Some((USER, "wrong"))).versions(&package));
    assert!(text.contains("`auth` in the configuration"), "{text}");

    // A token in `WKG_REGISTRY_<HOST>_AUTH_BEARER` comes first of all (an
    // htpasswd registry takes no bearer token, so it is refused, and the
    // refusal names the variable).
    std::env::set_var(bearer_variable(&host), "not-a-token-this-server-takes");
    let text = refusal(source(&server, Some((USER, PASSWORD))).versions(&package));
    assert!(text.contains(&bearer_variable(&host)), "{text}");
    assert!(!text.contains("not-a-token-this-server-takes"), "{text}");
    std::env::remove_var(bearer_variable(&host));
}
