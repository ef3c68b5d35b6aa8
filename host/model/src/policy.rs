//! The admin's policy for other servers (Misskey's blocked, silenced and media-silenced
//! hosts, and the hosts whose files are kept here), and how a host is matched against it.

/// Which list a host is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostPolicyKind {
    /// Nothing is accepted from it or sent to it.
    Blocked,
    /// Its users' notes are not public here, and following them needs their approval.
    Silenced,
    /// Its files are not shown.
    MediaSilenced,
    /// Its users' files are fetched and kept here (cleaned, with previews), instead of
    /// being shown through the media proxy from their server. Misskey has one switch for
    /// every server (`cacheRemoteFiles`); here the admin picks the servers.
    MediaCached,
}

crate::named_enum!(HostPolicyKind, "host policy (blocked, silenced, media-silenced)", {
    Blocked => "blocked",
    Silenced => "silenced",
    MediaSilenced => "media-silenced",
    MediaCached => "media-cached",
});

/// The lists, each of lower-cased hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    pub blocked: Vec<String>,
    pub silenced: Vec<String>,
    pub media_silenced: Vec<String>,
    pub media_cached: Vec<String>,
}

impl HostPolicy {
    pub fn list(&self, kind: HostPolicyKind) -> &[String] {
        match kind {
            HostPolicyKind::Blocked => &self.blocked,
            HostPolicyKind::Silenced => &self.silenced,
            HostPolicyKind::MediaSilenced => &self.media_silenced,
            HostPolicyKind::MediaCached => &self.media_cached,
        }
    }

    pub fn list_mut(&mut self, kind: HostPolicyKind) -> &mut Vec<String> {
        match kind {
            HostPolicyKind::Blocked => &mut self.blocked,
            HostPolicyKind::Silenced => &mut self.silenced,
            HostPolicyKind::MediaSilenced => &mut self.media_silenced,
            HostPolicyKind::MediaCached => &mut self.media_cached,
        }
    }

    /// Whether `host` (`name[:port]`) is on the `kind` list.
    pub fn applies(&self, kind: HostPolicyKind, host: &str) -> bool {
        self.list(kind)
            .iter()
            .any(|entry| host_matches(entry, host))
    }

    pub fn is_blocked(&self, host: &str) -> bool {
        self.applies(HostPolicyKind::Blocked, host)
    }

    pub fn is_silenced(&self, host: &str) -> bool {
        self.applies(HostPolicyKind::Silenced, host)
    }
}

/// Whether a list entry covers `host`, as Misskey matches them: the host itself or any of
/// its subdomains, case-insensitively. An entry without a port covers every port; one with a
/// port covers that port only.
pub fn host_matches(entry: &str, host: &str) -> bool {
    let entry = entry.trim().to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    if entry.is_empty() {
        return false;
    }
    let (entry_name, entry_port) = split_port(&entry);
    let (name, port) = split_port(&host);
    if entry_port.is_some() && entry_port != port {
        return false;
    }
    name == entry_name || name.ends_with(&format!(".{entry_name}"))
}

/// `name` and `port` of `name[:port]` (an IPv6 literal keeps its brackets).
fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']')) =>
        {
            (name, Some(port))
        }
        _ => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_cover_subdomains_and_ports_as_misskey_matches_them() {
        assert!(host_matches("spam.example", "spam.example"));
        assert!(host_matches("spam.example", "a.b.SPAM.example"));
        assert!(host_matches("spam.example", "spam.example:8443"));
        assert!(!host_matches("spam.example", "notspam.example"));
        assert!(!host_matches("spam.example", "spam.example.org"));
        assert!(host_matches("127.0.0.1:4000", "127.0.0.1:4000"));
        assert!(!host_matches("127.0.0.1:4000", "127.0.0.1:4001"));
        assert!(!host_matches("", "anything"));
        let p = HostPolicy {
            blocked: vec!["bad.example".into()],
            ..Default::default()
        };
        assert!(p.is_blocked("www.bad.example"));
        assert!(!p.is_silenced("www.bad.example"));
    }
}
