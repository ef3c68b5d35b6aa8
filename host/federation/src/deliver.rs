//! One signed POST of one activity to one inbox, and what its answer means for the job:
//! done, try again later (when the server says, if it says), or give up.

use std::time::{Duration, SystemTime};

use reqwest::Method;

use crate::ap::ACTIVITY_JSON;
use crate::signature::sign_request;
use crate::{Federation, Result};

/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// The most of an answer we read (we only want its status).
const MAX_ANSWER_BYTES: usize = 64 << 10;
/// The longest `Retry-After` we honour; a server asking for more is retried after this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// What became of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Worth trying again (a timeout, 5xx, 408, 429), after `retry_after` if the server
    /// said.
    Failed {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help (4xx other than 408 and 429, an address we may not reach).
    Refused {
        reason: String,
    },
}

impl Federation {
    /// POSTs `activity` to `inbox`, signed as local user `signer_id`.
    pub async fn deliver(&self, inbox: &str, signer_id: &str, activity: &str) -> Result<Delivery> {
        let url = match self.fetcher().check_url(inbox) {
            Ok(url) => url,
            Err(e) => {
                return Ok(Delivery::Refused {
                    reason: e.to_string(),
                });
            }
        };
        let key = self.signing_key(signer_id).await?;
        let key_id = self.ids().key(signer_id);
        let body = activity.as_bytes().to_vec();
        let mut request = match self
            .fetcher()
            .client()
            .request(Method::POST, url.as_str())
            .header(reqwest::header::CONTENT_TYPE, ACTIVITY_JSON)
            .body(body.clone())
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                return Ok(Delivery::Refused {
                    reason: e.to_string(),
                });
            }
        };
        if let Err(e) = sign_request(
            &Method::POST,
            &url,
            request.headers_mut(),
            &body,
            &key_id,
            &key,
            SystemTime::now(),
        ) {
            return Ok(Delivery::Refused {
                reason: e.to_string(),
            });
        }
        let response = match self
            .fetcher()
            .client()
            .fetch(request, DELIVERY_TIMEOUT, MAX_ANSWER_BYTES)
            .await
        {
            Ok(r) => r,
            Err(tsudoi_net::FetchError::Denied(reason)) => return Ok(Delivery::Refused { reason }),
            // A large answer still means the inbox took the request.
            Err(tsudoi_net::FetchError::TooLarge(_)) => return Ok(Delivery::Delivered),
            Err(e) => {
                return Ok(Delivery::Failed {
                    reason: e.to_string(),
                    retry_after: None,
                });
            }
        };
        let retry_after = response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| parse_retry_after(v, SystemTime::now()));
        Ok(classify(response.status, retry_after))
    }
}

/// What an inbox's status means.
pub fn classify(status: u16, retry_after: Option<Duration>) -> Delivery {
    match status {
        200..=299 => Delivery::Delivered,
        408 | 429 | 500..=599 => Delivery::Failed {
            reason: format!("the inbox answered {status}"),
            retry_after,
        },
        _ => Delivery::Refused {
            reason: format!("the inbox answered {status}"),
        },
    }
}

/// `Retry-After` as seconds or an HTTP date, capped at [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or_default(),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_decide_between_done_retry_and_give_up() {
        assert_eq!(classify(202, None), Delivery::Delivered);
        for retry in [408, 429, 500, 502, 503] {
            assert!(
                matches!(classify(retry, None), Delivery::Failed { .. }),
                "{retry}"
            );
        }
        for refused in [400, 401, 403, 404, 410, 413] {
            assert!(
                matches!(classify(refused, None), Delivery::Refused { .. }),
                "{refused}"
            );
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("99999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
