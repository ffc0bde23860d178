//! Content by digest: `GET v1/content/{digest}` names where the bytes are;
//! the first source that serves bytes hashing to the digest wins.

use warg_api::v1::content::{ContentError, ContentSource, ContentSourcesResponse};
use warg_api::v1::paths;
use warg_crypto::hash::AnyHash;

use crate::error::WargError;
use crate::http::{CallError, Http};

/// The bytes of the content `digest`, checked against it.
pub(crate) async fn download(http: &Http, digest: &AnyHash) -> Result<Vec<u8>, WargError> {
    let not_found = || WargError::ContentNotFound {
        registry: http.registry.clone(),
        digest: digest.to_string(),
    };
    let what = format!("fetching the sources of content {digest}");
    let answer: ContentSourcesResponse = http
        .get::<_, ContentError>(&paths::content_sources(digest), &what)
        .await
        .map_err(|e| match e {
            CallError::Api {
                error: ContentError::ContentDigestNotFound(_),
                ..
            } => not_found(),
            e => e.plain(),
        })?;
    let sources = answer
        .content_sources
        .get(digest)
        .filter(|s| !s.is_empty())
        .ok_or_else(not_found)?;
    let what = format!("downloading content {digest}");
    let mut last = None;
    for ContentSource::HttpGet { url, .. } in sources {
        let url = http.url(url, &what)?;
        match http.download(&url, &what).await {
            Ok(Some(bytes)) => {
                let actual = digest.algorithm().digest(&bytes);
                if actual == *digest {
                    return Ok(bytes);
                }
                last = Some(WargError::DigestMismatch {
                    registry: http.registry.clone(),
                    url: url.to_string(),
                    expected: digest.to_string(),
                    actual: actual.to_string(),
                });
            }
            Ok(None) => last = Some(not_found()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(not_found))
}
