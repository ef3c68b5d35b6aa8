//! Outbound HTTP that cannot be turned against the server's own network.
//!
//! Anything that fetches a URL someone else chose (a plugin today, federation later) goes
//! through [`GuardedClient`]: every address a name resolves to is checked before a connection
//! is made, so neither a literal `127.0.0.1` nor a DNS name pointing at `10.0.0.5` reaches a
//! private service (server-side request forgery). Redirects are not followed (the caller sees
//! the 3xx and decides), responses are cut off at a size limit and every request has a
//! deadline.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

/// Why an outbound request was not made or did not complete.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Denied(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Transport(String),
}

/// Which addresses may be contacted: public ones, plus the networks the admin allowed
/// explicitly (Misskey's `allowedPrivateNetworks`, for a sidecar on the same host).
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    pub allowed_private: Vec<IpNet>,
}

impl AddressPolicy {
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        !is_special(ip) || self.allowed_private.iter().any(|n| n.contains(&ip))
    }
}

/// `::ffff:10.0.0.1` is `10.0.0.1`: judge mapped addresses by the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Loopback, private, link-local, shared (CGNAT), documentation, multicast, unspecified and
/// other addresses that are not somebody's public server.
fn is_special(ip: IpAddr) -> bool {
    const V4: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
    ];
    const V6: &[&str] = &[
        "::/128",
        "::1/128",
        "64:ff9b::/96",
        "100::/64",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    ];
    let list = if ip.is_ipv4() { V4 } else { V6 };
    list.iter()
        .filter_map(|n| n.parse::<IpNet>().ok())
        .any(|n| n.contains(&ip))
}

/// Resolves names with the system resolver and drops the addresses the policy forbids; a name
/// with nothing left fails to resolve, so no connection is attempted.
struct GuardedResolver(AddressPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(
                    format!("{host} resolves only to private or reserved addresses").into(),
                );
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client that refuses private addresses, never follows redirects and caps sizes.
#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: AddressPolicy,
}

/// What came back, with the body already read (and capped).
#[derive(Debug)]
pub struct FetchedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl GuardedClient {
    pub fn new(policy: AddressPolicy) -> Self {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Tsudoi/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot build the guarded HTTP client; using defaults");
                reqwest::Client::new()
            });
        Self { client, policy }
    }

    /// Sends `request` if its URL is http(s) and its host is allowed, waiting at most
    /// `timeout` for the whole exchange and reading at most `max_body` bytes.
    pub async fn fetch(
        &self,
        request: reqwest::Request,
        timeout: Duration,
        max_body: usize,
    ) -> Result<FetchedResponse, FetchError> {
        let url = request.url();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Denied(format!(
                "only http and https URLs may be fetched, not {}",
                url.scheme()
            )));
        }
        // A literal address never goes through the resolver: check it here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(FetchError::Denied(format!("{url} has no host"))),
        };
        if let Some(ip) = literal
            && !self.policy.allows(ip)
        {
            return Err(FetchError::Denied(format!(
                "{ip} is a private or reserved address"
            )));
        }
        let exchange = async {
            let mut response = self
                .client
                .execute(request)
                .await
                .map_err(transport_error)?;
            if response
                .content_length()
                .is_some_and(|n| n > max_body as u64)
            {
                return Err(FetchError::TooLarge(max_body));
            }
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                if body.len() + chunk.len() > max_body {
                    return Err(FetchError::TooLarge(max_body));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(FetchedResponse {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| FetchError::Timeout(timeout))?
    }

    /// GETs `url`, following up to five redirects, each to a URL checked as the first was
    /// (a redirect to a private address is refused like a link to one). `timeout` covers
    /// each hop.
    pub async fn get_following_redirects(
        &self,
        url: &str,
        accept: &str,
        timeout: Duration,
        max_body: usize,
    ) -> Result<FetchedResponse, FetchError> {
        const MAX_REDIRECTS: usize = 5;
        let mut current =
            url::Url::parse(url).map_err(|e| FetchError::Denied(format!("{url}: {e}")))?;
        for _ in 0..=MAX_REDIRECTS {
            let request = self
                .client
                .get(current.clone())
                .header(reqwest::header::ACCEPT, accept)
                .build()
                .map_err(transport_error)?;
            let response = self.fetch(request, timeout, max_body).await?;
            if !(300..400).contains(&response.status) {
                return Ok(response);
            }
            let location = response
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| {
                    FetchError::Transport(format!("{current} redirects without a Location"))
                })?;
            current = current
                .join(location)
                .map_err(|e| FetchError::Transport(format!("bad redirect to {location}: {e}")))?;
        }
        Err(FetchError::Transport(format!(
            "more than {MAX_REDIRECTS} redirects from {url}"
        )))
    }

    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.client.request(method, url)
    }
}

/// The resolver's refusal arrives wrapped in connector errors: surface it as a denial.
fn transport_error(e: reqwest::Error) -> FetchError {
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if text.contains("private or reserved") {
            return FetchError::Denied(text);
        }
        source = s.source();
    }
    FetchError::Transport(format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_reserved_addresses_are_refused_unless_allowed() {
        let strict = AddressPolicy::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!strict.allows(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "1.1.1.1"] {
            assert!(strict.allows(ip.parse().unwrap()), "{ip} must be allowed");
        }
        let lenient = AddressPolicy {
            allowed_private: vec!["127.0.0.0/8".parse().unwrap()],
        };
        assert!(lenient.allows("127.0.0.1".parse().unwrap()));
        assert!(!lenient.allows("10.0.0.1".parse().unwrap()));
    }
}
