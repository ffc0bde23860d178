//! Reads from a registry that asks for no credentials, without the OCI
//! client's probe before every request.
//!
//! oci-client asks a registry's `/v2/` how to authenticate before each
//! request it has no token for; a registry that asks for no credentials
//! (no `WWW-Authenticate` challenge) gives it no token to keep, so every
//! tag list, manifest and config costs two round trips instead of one.
//! [`Direct`] probes `/v2/` once per source and, when the registry is open,
//! reads tag lists, image manifests and config blobs with plain GETs (the
//! distribution API's, with the same checks and the same errors as the
//! client: a registry error envelope, a status, a digest mismatch). Image
//! indexes, and any registry that challenges, stay with the client.

use std::time::Duration;

use oci_client::client::TagResponse;
use oci_client::errors::{DigestError, OciDistributionError, OciEnvelope};
use oci_client::manifest::{
    OciImageManifest, OciManifest, IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::Reference;
use tokio::sync::OnceCell;
use warg_depsolve_names::Integrity;

use crate::settings::OciSettings;

/// Plain reads from a registry, once it is known to ask for no
/// credentials.
pub(crate) struct Direct {
    http: reqwest::Client,
    scheme: &'static str,
    /// Whether `/v2/` answered without a challenge (unset until it
    /// answered at all).
    open: OnceCell<bool>,
}

/// The media types accepted for a manifest (the client's list).
const ACCEPT: [&str; 4] = [
    IMAGE_MANIFEST_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE,
];

impl Direct {
    /// Reads for the registry `settings` name, with the client's
    /// timeouts, certificates and user agent; `None` if no HTTP client
    /// can be made from them (the OCI client then does every read).
    pub(crate) fn new(
        settings: &OciSettings,
        read_timeout: Duration,
        user_agent: &'static str,
    ) -> Option<Direct> {
        let mut builder = reqwest::Client::builder()
            .danger_accept_invalid_certs(settings.accept_invalid_certificates)
            .read_timeout(read_timeout)
            .connect_timeout(settings.connect_timeout)
            .user_agent(user_agent);
        let mut certificates = Vec::new();
        for (pem, data) in &settings.extra_root_certificates {
            let certificate = if *pem {
                reqwest::Certificate::from_pem(data)
            } else {
                reqwest::Certificate::from_der(data)
            };
            certificates.push(certificate.ok()?);
        }
        if !certificates.is_empty() {
            builder = builder.tls_certs_merge(certificates);
        }
        Some(Direct {
            http: builder.build().ok()?,
            scheme: if settings.plain_http { "http" } else { "https" },
            open: OnceCell::new(),
        })
    }

    /// Whether the registry of `reference` asks for no credentials: its
    /// `/v2/` answers with success and no challenge. Asked once; a probe
    /// that gets no answer is not remembered (the caller then goes
    /// through the client, which meets the same trouble and reports it).
    pub(crate) async fn is_open(&self, reference: &Reference) -> bool {
        let probe = self
            .open
            .get_or_try_init(|| async {
                let url = format!("{}://{}/v2/", self.scheme, reference.resolve_registry());
                let answer = self.http.get(&url).send().await?;
                let open = answer.status().is_success()
                    && !answer
                        .headers()
                        .contains_key(reqwest::header::WWW_AUTHENTICATE);
                Ok::<_, reqwest::Error>(open)
            })
            .await;
        matches!(probe, Ok(true))
    }

    fn url(&self, reference: &Reference, rest: &str) -> String {
        format!(
            "{}://{}/v2/{}/{rest}",
            self.scheme,
            reference.resolve_registry(),
            reference.repository()
        )
    }

    /// GETs `url`; the body of a success, or the client's error for the
    /// answer.
    async fn get(&self, url: &str, accept: &[&str]) -> Result<Vec<u8>, OciDistributionError> {
        let mut request = self.http.get(url);
        if !accept.is_empty() {
            request = request.header(reqwest::header::ACCEPT, accept.join(", "));
        }
        let answer = request.send().await?;
        let status = answer.status();
        let digest = answer
            .headers()
            .get("Docker-Content-Digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = answer.bytes().await?.to_vec();
        check_status(status, &body, url)?;
        // A manifest's digest header, when the registry sends one, names
        // the bytes sent.
        if let Some(expected) = digest.filter(|d| d.starts_with("sha256:")) {
            let actual = Integrity::sha256(&body).to_oci();
            if actual != expected {
                return Err(DigestError::VerificationError { expected, actual }.into());
            }
        }
        Ok(body)
    }

    /// One page of the repository's tags (`n` at most, after `last`).
    pub(crate) async fn list_tags(
        &self,
        reference: &Reference,
        n: usize,
        last: Option<&str>,
    ) -> Result<TagResponse, OciDistributionError> {
        let mut rest = format!("tags/list?n={n}");
        if let Some(last) = last {
            rest.push_str("&last=");
            rest.push_str(last);
        }
        let body = self.get(&self.url(reference, &rest), &[]).await?;
        serde_json::from_slice(&body)
            .map_err(|e| OciDistributionError::GenericError(Some(format!("tag list: {e}"))))
    }

    /// The image manifest `reference` names; `None` when it names an
    /// image index (the client chooses among its manifests).
    pub(crate) async fn manifest(
        &self,
        reference: &Reference,
    ) -> Result<Option<OciImageManifest>, OciDistributionError> {
        let tag = reference.tag().unwrap_or("latest");
        let body = self
            .get(&self.url(reference, &format!("manifests/{tag}")), &ACCEPT)
            .await?;
        match serde_json::from_slice::<OciManifest>(&body)
            .map_err(|e| OciDistributionError::ManifestParsingError(e.to_string()))?
        {
            OciManifest::Image(manifest) => Ok(Some(manifest)),
            OciManifest::ImageIndex(_) => Ok(None),
        }
    }

    /// The blob `digest` of `reference`'s repository (a config), checked
    /// against its digest.
    pub(crate) async fn config(
        &self,
        reference: &Reference,
        digest: &str,
    ) -> Result<Vec<u8>, OciDistributionError> {
        let config = self
            .get(&self.url(reference, &format!("blobs/{digest}")), &[])
            .await?;
        if let Ok(expected) = Integrity::parse_oci(digest) {
            if !expected.matches(&config) {
                return Err(DigestError::VerificationError {
                    expected: digest.to_string(),
                    actual: Integrity::compute(expected.algorithm, &config).to_oci(),
                }
                .into());
            }
        }
        Ok(config)
    }
}

/// The client's reading of an answer's status: success, a registry error
/// envelope for a 4xx, or the status with the body's text.
fn check_status(
    status: reqwest::StatusCode,
    body: &[u8],
    url: &str,
) -> Result<(), OciDistributionError> {
    match status {
        reqwest::StatusCode::OK => Ok(()),
        reqwest::StatusCode::UNAUTHORIZED => Err(OciDistributionError::UnauthorizedError {
            url: url.to_string(),
        }),
        s if s.is_success() => Err(OciDistributionError::SpecViolationError(format!(
            "Expected HTTP Status {}, got {s} instead",
            reqwest::StatusCode::OK
        ))),
        s if s.is_client_error() => match serde_json::from_slice::<OciEnvelope>(body) {
            Ok(envelope) => Err(OciDistributionError::RegistryError {
                envelope,
                url: url.to_string(),
            }),
            Err(_) => Err(OciDistributionError::ServerError {
                code: s.as_u16(),
                url: url.to_string(),
                message: String::from_utf8_lossy(body).to_string(),
            }),
        },
        s => Err(OciDistributionError::ServerError {
            code: s.as_u16(),
            url: url.to_string(),
            message: String::from_utf8_lossy(body).to_string(),
        }),
    }
}
