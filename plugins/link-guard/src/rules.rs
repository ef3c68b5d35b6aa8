//! What the link guard decides, from the hosts a note links and its author's age.

use serde::Deserialize;

/// The configuration's JSON Schema: the server refuses a configuration it does not match.
pub const SCHEMA: &str = r#"{"type":"object","additionalProperties":false,"properties":{"blocked_hosts":{"type":"array","items":{"type":"string","minLength":1}},"allowed_hosts":{"type":"array","items":{"type":"string","minLength":1}},"new_account_hours":{"type":"integer","minimum":0},"new_account_max_links":{"type":"integer","minimum":0},"action":{"enum":["reject","flag"]}}}"#;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Links to these hosts (and their subdomains) are refused from anyone.
    #[serde(default)]
    pub blocked_hosts: Vec<String>,
    /// Links to these hosts (and their subdomains) do not count against young accounts.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// An account younger than this is young. A day by default: spam accounts post within
    /// minutes of their creation, and a day costs a real newcomer little.
    #[serde(default = "day")]
    pub new_account_hours: u32,
    /// How many links to other hosts a young account's note may carry (none by default).
    #[serde(default)]
    pub new_account_max_links: usize,
    #[serde(default)]
    pub action: Action,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    #[default]
    Reject,
    Flag,
}

fn day() -> u32 {
    24
}

const HOUR_MS: i64 = 3_600_000;

impl Rules {
    /// What `{}` configures.
    pub const DEFAULT: Rules = Rules {
        blocked_hosts: Vec::new(),
        allowed_hosts: Vec::new(),
        new_account_hours: 24,
        new_account_max_links: 0,
        action: Action::Reject,
    };

    /// Why a note linking `hosts` by an account `account_age_ms` old is refused, if it is.
    pub fn judge<'a>(
        &self,
        account_age_ms: i64,
        hosts: impl Iterator<Item = &'a str> + Clone,
    ) -> Option<String> {
        if let Some(host) = hosts.clone().find(|h| covered(&self.blocked_hosts, h)) {
            return Some(format!("links to a blocked site ({host})"));
        }
        if account_age_ms >= i64::from(self.new_account_hours) * HOUR_MS {
            return None;
        }
        let counted = hosts.filter(|h| !covered(&self.allowed_hosts, h)).count();
        (counted > self.new_account_max_links).then(|| match self.new_account_max_links {
            0 => format!(
                "accounts younger than {} hours may not post links",
                self.new_account_hours
            ),
            1 => format!(
                "accounts younger than {} hours may post 1 link a note",
                self.new_account_hours
            ),
            n => format!(
                "accounts younger than {} hours may post {n} links a note",
                self.new_account_hours
            ),
        })
    }
}

/// Whether `host` is one of `listed` or a subdomain of one, without case and ignoring a
/// trailing dot on either. An empty host (a URL no browser could follow) is never listed.
fn covered(listed: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').as_bytes();
    !host.is_empty()
        && listed.iter().any(|entry| {
            let entry = entry.trim_end_matches('.').as_bytes();
            let Some(start) = host.len().checked_sub(entry.len()) else {
                return false;
            };
            !entry.is_empty()
                && host[start..].eq_ignore_ascii_case(entry)
                && (start == 0 || host[start - 1] == b'.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: i64 = 30 * 24 * HOUR_MS;
    const NEW: i64 = HOUR_MS;

    fn rules(json: &str) -> Rules {
        serde_json::from_str(json).unwrap()
    }

    fn judge(rules: &Rules, age: i64, hosts: &[&str]) -> Option<String> {
        rules.judge(age, hosts.iter().copied())
    }

    #[test]
    fn blocked_hosts_and_their_subdomains_are_refused_from_anyone() {
        let r = rules(r#"{"blocked_hosts": ["Spam.example."]}"#);
        for host in ["spam.example", "www.SPAM.example", "a.b.spam.example."] {
            assert_eq!(
                judge(&r, OLD, &["fine.example", host]).as_deref(),
                Some(format!("links to a blocked site ({host})").as_str())
            );
        }
        for host in ["notspam.example", "spam.example.org", "example", ""] {
            assert_eq!(judge(&r, OLD, &[host]), None, "{host}");
        }
    }

    #[test]
    fn young_accounts_may_not_link_by_default() {
        let r = rules("{}");
        assert!(
            judge(&r, NEW, &["a.example"])
                .unwrap()
                .contains("may not post links")
        );
        assert_eq!(judge(&r, NEW, &[]), None);
        assert_eq!(judge(&r, 24 * HOUR_MS, &["a.example"]), None);
        assert_eq!(judge(&r, OLD, &["a.example", "b.example"]), None);
    }

    #[test]
    fn young_accounts_get_their_allowance_and_the_allowed_hosts() {
        let r = rules(
            r#"{"allowed_hosts": ["wikipedia.org"], "new_account_max_links": 1, "new_account_hours": 2, "action": "flag"}"#,
        );
        assert_eq!(r.action, Action::Flag);
        assert_eq!(
            judge(&r, NEW, &["en.wikipedia.org", "wikipedia.org", "a.example"]),
            None
        );
        assert_eq!(
            judge(&r, NEW, &["a.example", "b.example"]).as_deref(),
            Some("accounts younger than 2 hours may post 1 link a note")
        );
        assert_eq!(judge(&r, 2 * HOUR_MS, &["a.example", "b.example"]), None);
    }

    #[test]
    fn unknown_settings_are_refused() {
        assert!(serde_json::from_str::<Rules>(r#"{"blocked": []}"#).is_err());
    }

    #[test]
    fn the_schema_is_json() {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
        assert_eq!(schema["additionalProperties"], false);
    }
}
