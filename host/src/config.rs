//! One typed configuration from three layers: built-in defaults, an optional TOML file, and
//! `TSUDOI_*` environment variables (highest priority). Every error names the key at fault.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::time::Duration;

use serde::Deserialize;
use tsudoi_core::drive::DrivePolicy;
use tsudoi_core::search::SearchPolicy;
use tsudoi_core::{PublicUrl, Settings};
use tsudoi_federation::FederationSettings;
use tsudoi_media::blobs::{Backend, S3Config};
use tsudoi_model::{Deadlines, RegistrationMode};
use url::Url;

/// Everything the server is configured with: where it listens and keeps its data, and the
/// settings the rules read ([`Settings`], handed to the core).
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Private networks outbound requests (plugins' HTTP) may reach anyway, e.g. a sidecar
    /// on the same host. Empty by default: nothing private is reachable.
    pub allowed_private_networks: Vec<ipnet::IpNet>,
    pub settings: Settings,
    pub federation: FederationSettings,
    /// Where drive files' bytes are kept: `files/` in the data directory unless `[drive.s3]`
    /// names a bucket.
    pub file_storage: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid value for `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// The file layer: every key optional, unknown keys rejected so a typo is reported, not ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    url: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    redis_url: Option<String>,
    registration: Option<String>,
    max_note_length: Option<usize>,
    instance_name: Option<String>,
    instance_description: Option<String>,
    allowed_private_networks: Option<Vec<String>>,
    plugins: Option<PluginFileConfig>,
    federation: Option<FederationFileConfig>,
    drive: Option<DriveFileConfig>,
    search: Option<SearchFileConfig>,
}

/// `[search]`: whether notes and users may be searched (both by default).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchFileConfig {
    notes: Option<bool>,
    users: Option<bool>,
}

/// Sets one `[drive.s3]` key from an environment variable.
type SetS3 = fn(&mut S3FileConfig, String);

/// `[drive]`: what uploads may be, and (`[drive.s3]`) an S3-compatible bucket to keep them in.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DriveFileConfig {
    capacity_mb: Option<u64>,
    max_file_mb: Option<u64>,
    uploadable_types: Option<Vec<String>>,
    s3: Option<S3FileConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct S3FileConfig {
    endpoint: Option<String>,
    bucket: Option<String>,
    region: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    prefix: Option<String>,
    public_url: Option<String>,
    path_style: Option<bool>,
}

/// `[federation]`: how deliveries are retried and spread, and the switch tests use to
/// federate over loopback.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FederationFileConfig {
    allow_private: Option<bool>,
    retry_base_ms: Option<u64>,
    /// Hours, fractions allowed (tests suspend a server after seconds).
    dead_after_hours: Option<f64>,
    delivery_concurrency: Option<usize>,
    per_host_concurrency: Option<usize>,
    /// Seconds a dead node's jobs wait before another node takes them.
    job_lease_secs: Option<u64>,
}

/// `[plugins]`: per-hook deadlines in milliseconds, and each plugin's key-value quota.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginFileConfig {
    moderation_deadline_ms: Option<u64>,
    ranking_deadline_ms: Option<u64>,
    mfm_deadline_ms: Option<u64>,
    bridge_poll_deadline_ms: Option<u64>,
    kv_quota_bytes: Option<i64>,
}

/// The range `plugins.kv_quota_bytes` may take: from room for a few counters to a size past
/// which a plugin is keeping a database, not a cache.
const KV_QUOTA_RANGE: std::ops::RangeInclusive<i64> = 4096..=(1 << 30);

impl Config {
    /// Loads defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, |k| std::env::var(k).ok())
    }

    pub fn load_with_env(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut raw = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
        if let Some(v) = non_empty("TSUDOI_LISTEN") {
            raw.listen = Some(v);
        }
        if let Some(v) = non_empty("TSUDOI_URL") {
            raw.url = Some(v);
        }
        if let Some(v) = non_empty("TSUDOI_DATA_DIR") {
            raw.data_dir = Some(v.into());
        }
        if let Some(v) = non_empty("TSUDOI_DATABASE_URL") {
            raw.database_url = Some(v);
        }
        if let Some(v) = non_empty("TSUDOI_REDIS_URL") {
            raw.redis_url = Some(v);
        }
        if let Some(v) = non_empty("TSUDOI_REGISTRATION") {
            raw.registration = Some(v);
        }
        if let Some(v) = non_empty("TSUDOI_MAX_NOTE_LENGTH") {
            raw.max_note_length = Some(parse_number("max_note_length", &v)?);
        }
        if let Some(v) = non_empty("TSUDOI_INSTANCE_NAME") {
            raw.instance_name = Some(v);
        }
        if let Some(v) = non_empty("TSUDOI_PLUGIN_KV_QUOTA_BYTES") {
            let quota = parse_number("plugins.kv_quota_bytes", &v)?;
            raw.plugins.get_or_insert_default().kv_quota_bytes =
                Some(i64::try_from(quota).unwrap_or(i64::MAX));
        }
        if let Some(v) = non_empty("TSUDOI_ALLOWED_PRIVATE_NETWORKS") {
            raw.allowed_private_networks =
                Some(v.split(',').map(|s| s.trim().to_owned()).collect());
        }
        if let Some(v) = non_empty("TSUDOI_FEDERATION_ALLOW_PRIVATE") {
            raw.federation.get_or_insert_default().allow_private =
                Some(parse_bool("federation.allow_private", &v)?);
        }
        if let Some(v) = non_empty("TSUDOI_SEARCH_NOTES") {
            raw.search.get_or_insert_default().notes = Some(parse_bool("search.notes", &v)?);
        }
        if let Some(v) = non_empty("TSUDOI_SEARCH_USERS") {
            raw.search.get_or_insert_default().users = Some(parse_bool("search.users", &v)?);
        }
        if let Some(v) = non_empty("TSUDOI_DRIVE_CAPACITY_MB") {
            raw.drive.get_or_insert_default().capacity_mb =
                Some(parse_number("drive.capacity_mb", &v)? as u64);
        }
        if let Some(v) = non_empty("TSUDOI_DRIVE_MAX_FILE_MB") {
            raw.drive.get_or_insert_default().max_file_mb =
                Some(parse_number("drive.max_file_mb", &v)? as u64);
        }
        if let Some(v) = non_empty("TSUDOI_DRIVE_UPLOADABLE_TYPES") {
            raw.drive.get_or_insert_default().uploadable_types =
                Some(v.split(',').map(|s| s.trim().to_owned()).collect());
        }
        // Any of these turns the bucket on; the file's `[drive.s3]` fills in the rest.
        let s3_env: [(&str, SetS3); 7] = [
            ("TSUDOI_S3_ENDPOINT", |c, v| c.endpoint = Some(v)),
            ("TSUDOI_S3_BUCKET", |c, v| c.bucket = Some(v)),
            ("TSUDOI_S3_REGION", |c, v| c.region = Some(v)),
            ("TSUDOI_S3_ACCESS_KEY_ID", |c, v| c.access_key_id = Some(v)),
            ("TSUDOI_S3_SECRET_ACCESS_KEY", |c, v| {
                c.secret_access_key = Some(v)
            }),
            ("TSUDOI_S3_PREFIX", |c, v| c.prefix = Some(v)),
            ("TSUDOI_S3_PUBLIC_URL", |c, v| c.public_url = Some(v)),
        ];
        for (name, set) in s3_env {
            if let Some(v) = non_empty(name) {
                set(
                    raw.drive.get_or_insert_default().s3.get_or_insert_default(),
                    v,
                );
            }
        }
        if let Some(v) = non_empty("TSUDOI_S3_PATH_STYLE") {
            raw.drive
                .get_or_insert_default()
                .s3
                .get_or_insert_default()
                .path_style = Some(parse_bool("drive.s3.path_style", &v)?);
        }
        if let Some(v) = non_empty("TSUDOI_FEDERATION_RETRY_BASE_MS") {
            raw.federation.get_or_insert_default().retry_base_ms =
                Some(parse_number("federation.retry_base_ms", &v)? as u64);
        }
        if let Some(v) = non_empty("TSUDOI_FEDERATION_DEAD_AFTER_HOURS") {
            raw.federation.get_or_insert_default().dead_after_hours =
                Some(v.parse().map_err(|_| ConfigError::Invalid {
                    key: "federation.dead_after_hours",
                    message: format!("`{v}` is not a number of hours"),
                })?);
        }
        if let Some(v) = non_empty("TSUDOI_FEDERATION_DELIVERY_CONCURRENCY") {
            raw.federation.get_or_insert_default().delivery_concurrency =
                Some(parse_number("federation.delivery_concurrency", &v)?);
        }
        if let Some(v) = non_empty("TSUDOI_FEDERATION_JOB_LEASE_SECS") {
            raw.federation.get_or_insert_default().job_lease_secs =
                Some(parse_number("federation.job_lease_secs", &v)? as u64);
        }
        if let Some(v) = non_empty("TSUDOI_FEDERATION_PER_HOST_CONCURRENCY") {
            raw.federation.get_or_insert_default().per_host_concurrency =
                Some(parse_number("federation.per_host_concurrency", &v)?);
        }
        Self::resolve(raw)
    }

    fn resolve(raw: FileConfig) -> Result<Self, ConfigError> {
        let listen: SocketAddr = raw
            .listen
            .as_deref()
            .unwrap_or("127.0.0.1:3000")
            .parse()
            .map_err(|e| ConfigError::Invalid {
                key: "listen",
                message: format!("{e}; expected address:port such as 127.0.0.1:3000"),
            })?;
        let url_text = raw.url.unwrap_or_else(|| format!("http://{listen}"));
        let url = Url::parse(url_text.trim_end_matches('/')).map_err(|e| ConfigError::Invalid {
            key: "url",
            message: format!("{e}: `{url_text}`"),
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError::Invalid {
                key: "url",
                message: format!("`{url_text}` must be an http(s) URL with a host"),
            });
        }
        if url.path() != "/" || url.query().is_some() {
            return Err(ConfigError::Invalid {
                key: "url",
                message: format!("`{url_text}` must be a bare origin without path or query"),
            });
        }
        let data_dir = raw.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        let database_url = raw
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("tsudoi.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                key: "database_url",
                message: format!(
                    "`{}` is neither a sqlite:// nor a postgres:// URL",
                    redact(&database_url)
                ),
            });
        }
        if let Some(redis) = &raw.redis_url
            && !redis.starts_with("redis://")
            && !redis.starts_with("rediss://")
        {
            return Err(ConfigError::Invalid {
                key: "redis_url",
                message: "must start with redis:// or rediss://".into(),
            });
        }
        let registration = match raw.registration {
            Some(v) => v
                .parse()
                .map_err(|_: tsudoi_model::UnknownName| ConfigError::Invalid {
                    key: "registration",
                    message: format!(
                        "`{v}` is not a registration mode; use open, invite-only or closed"
                    ),
                })?,
            None => RegistrationMode::Open,
        };
        let max_note_length = raw.max_note_length.unwrap_or(3000);
        if !(1..=100_000).contains(&max_note_length) {
            return Err(ConfigError::Invalid {
                key: "max_note_length",
                message: format!("{max_note_length} is outside 1..=100000"),
            });
        }
        let allowed_private_networks = raw
            .allowed_private_networks
            .unwrap_or_default()
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                // A bare address means that one address.
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| ConfigError::Invalid {
                        key: "allowed_private_networks",
                        message: format!("`{s}` is not a network such as 10.0.0.0/8 or an address"),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let plugins = raw.plugins.unwrap_or_default();
        let deadline = |key: &'static str, ms: Option<u64>, default: std::time::Duration| match ms {
            None => Ok(default),
            Some(ms) if (1..=60_000).contains(&ms) => Ok(std::time::Duration::from_millis(ms)),
            Some(ms) => Err(ConfigError::Invalid {
                key,
                message: format!("{ms} is outside 1..=60000 milliseconds"),
            }),
        };
        let defaults = Deadlines::default();
        let plugin_deadlines = Deadlines {
            moderation: deadline(
                "plugins.moderation_deadline_ms",
                plugins.moderation_deadline_ms,
                defaults.moderation,
            )?,
            ranking: deadline(
                "plugins.ranking_deadline_ms",
                plugins.ranking_deadline_ms,
                defaults.ranking,
            )?,
            mfm: deadline(
                "plugins.mfm_deadline_ms",
                plugins.mfm_deadline_ms,
                defaults.mfm,
            )?,
            bridge: deadline(
                "plugins.bridge_poll_deadline_ms",
                plugins.bridge_poll_deadline_ms,
                defaults.bridge,
            )?,
        };
        let plugin_kv_quota_bytes = match plugins.kv_quota_bytes {
            None => tsudoi_plugin_host::KV_QUOTA_BYTES,
            Some(n) if KV_QUOTA_RANGE.contains(&n) => n,
            Some(n) => {
                return Err(ConfigError::Invalid {
                    key: "plugins.kv_quota_bytes",
                    message: format!(
                        "{n} is outside {}..={} bytes",
                        KV_QUOTA_RANGE.start(),
                        KV_QUOTA_RANGE.end()
                    ),
                });
            }
        };
        let federation = federation_settings(raw.federation.unwrap_or_default())?;
        let drive_raw = raw.drive.unwrap_or_default();
        let file_storage = match drive_raw.s3 {
            Some(s3) => Backend::S3(s3_config(s3)?),
            None => Backend::Local(data_dir.join("files")),
        };
        let search_raw = raw.search.unwrap_or_default();
        let search_defaults = SearchPolicy::default();
        let search = SearchPolicy {
            notes: search_raw.notes.unwrap_or(search_defaults.notes),
            users: search_raw.users.unwrap_or(search_defaults.users),
        };
        let drive = drive_policy(
            drive_raw.capacity_mb,
            drive_raw.max_file_mb,
            drive_raw.uploadable_types,
        )?;
        Ok(Self {
            listen,
            federation,
            file_storage,
            // Compiled plugin code is cached under the data directory, shared by the shell
            // (which compiles on install) and the server (which then starts at once).
            settings: Settings {
                url: PublicUrl::new(&url),
                instance_name: raw.instance_name.unwrap_or_else(|| "Tsudoi".into()),
                instance_description: raw.instance_description,
                registration,
                max_note_length,
                plugin_deadlines,
                plugin_kv_quota_bytes,
                plugin_cache: data_dir.join("plugin-cache"),
                drive,
                search,
            },
            data_dir,
            database_url,
            redis_url: raw.redis_url,
            allowed_private_networks,
        })
    }
}

fn federation_settings(raw: FederationFileConfig) -> Result<FederationSettings, ConfigError> {
    let defaults = FederationSettings::default();
    let positive = |key: &'static str, v: Option<usize>, default: usize| match v {
        None => Ok(default),
        Some(n) if (1..=1024).contains(&n) => Ok(n),
        Some(n) => Err(ConfigError::Invalid {
            key,
            message: format!("{n} is outside 1..=1024"),
        }),
    };
    let retry_base = match raw.retry_base_ms {
        None => defaults.retry_base,
        Some(ms) if (10..=3_600_000).contains(&ms) => Duration::from_millis(ms),
        Some(ms) => {
            return Err(ConfigError::Invalid {
                key: "federation.retry_base_ms",
                message: format!("{ms} is outside 10..=3600000 milliseconds"),
            });
        }
    };
    Ok(FederationSettings {
        allow_private: raw.allow_private.unwrap_or(false),
        retry_base,
        dead_after: match raw.dead_after_hours {
            None => defaults.dead_after,
            Some(h) if h > 0.0 && h <= 24.0 * 365.0 => Duration::from_secs_f64(h * 3600.0),
            Some(h) => {
                return Err(ConfigError::Invalid {
                    key: "federation.dead_after_hours",
                    message: format!("{h} is not between 0 and a year of hours"),
                });
            }
        },
        delivery_concurrency: positive(
            "federation.delivery_concurrency",
            raw.delivery_concurrency,
            defaults.delivery_concurrency,
        )?,
        per_host_concurrency: positive(
            "federation.per_host_concurrency",
            raw.per_host_concurrency,
            defaults.per_host_concurrency,
        )?,
        job_lease: match raw.job_lease_secs {
            None => defaults.job_lease,
            // At least three seconds: the lease is renewed every third of it.
            Some(s) if (3..=3600).contains(&s) => Duration::from_secs(s),
            Some(s) => {
                return Err(ConfigError::Invalid {
                    key: "federation.job_lease_secs",
                    message: format!("{s} is outside 3..=3600 seconds"),
                });
            }
        },
    })
}

/// `[drive]`'s limits, Misskey's defaults where unset.
fn drive_policy(
    capacity_mb: Option<u64>,
    max_file_mb: Option<u64>,
    types: Option<Vec<String>>,
) -> Result<DrivePolicy, ConfigError> {
    let defaults = DrivePolicy::default();
    let mb = |key: &'static str, v: Option<u64>, default: i64| match v {
        None => Ok(default),
        Some(n) if (1..=1 << 20).contains(&n) => Ok((n as i64) << 20),
        Some(n) => Err(ConfigError::Invalid {
            key,
            message: format!("{n} is outside 1..=1048576 MB"),
        }),
    };
    let uploadable_types = match types {
        None => defaults.uploadable_types,
        Some(types) => {
            let types: Vec<String> = types.into_iter().filter(|t| !t.is_empty()).collect();
            if let Some(bad) = types.iter().find(|t| {
                *t != "*"
                    && !t
                        .split_once('/')
                        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
            }) {
                return Err(ConfigError::Invalid {
                    key: "drive.uploadable_types",
                    message: format!("`{bad}` is not a media type such as image/png, image/* or *"),
                });
            }
            types
        }
    };
    Ok(DrivePolicy {
        capacity_bytes: mb("drive.capacity_mb", capacity_mb, defaults.capacity_bytes)?,
        max_file_bytes: mb("drive.max_file_mb", max_file_mb, defaults.max_file_bytes)?,
        uploadable_types,
    })
}

/// `[drive.s3]`: a bucket, the keys to it and (unless AWS) the service's URL.
fn s3_config(raw: S3FileConfig) -> Result<S3Config, ConfigError> {
    let required = |key: &'static str, v: Option<String>| {
        v.filter(|v| !v.is_empty()).ok_or(ConfigError::Invalid {
            key,
            message: "is required when [drive.s3] is set".into(),
        })
    };
    if let Some(endpoint) = &raw.endpoint
        && Url::parse(endpoint).map_or(true, |u| !matches!(u.scheme(), "http" | "https"))
    {
        return Err(ConfigError::Invalid {
            key: "drive.s3.endpoint",
            message: format!("`{endpoint}` is not an http(s) URL"),
        });
    }
    Ok(S3Config {
        bucket: required("drive.s3.bucket", raw.bucket)?,
        access_key_id: required("drive.s3.access_key_id", raw.access_key_id)?,
        secret_access_key: required("drive.s3.secret_access_key", raw.secret_access_key)?,
        region: raw.region.unwrap_or_else(|| "us-east-1".into()),
        path_style: raw.path_style.unwrap_or(raw.endpoint.is_some()),
        endpoint: raw.endpoint,
        prefix: raw.prefix.filter(|p| !p.is_empty()),
        public_url: raw.public_url.filter(|u| !u.is_empty()),
    })
}

fn parse_bool(key: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ConfigError::Invalid {
            key,
            message: format!("`{v}` is not true or false"),
        }),
    }
}

fn parse_number(key: &'static str, v: &str) -> Result<usize, ConfigError> {
    v.parse().map_err(|_| ConfigError::Invalid {
        key,
        message: format!("`{v}` is not a whole number"),
    })
}

/// Hides a password in a database URL before it is printed.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| pairs.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = Config::load_with_env(None, env_of(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.settings.base_url(), "http://127.0.0.1:3000");
        assert_eq!(c.database_url, "sqlite://data/tsudoi.db");
        assert_eq!(c.settings.registration, RegistrationMode::Open);
        assert_eq!(c.settings.max_note_length, 3000);
    }

    #[test]
    fn environment_overrides_and_errors_name_the_key() {
        let c = Config::load_with_env(
            None,
            env_of(&[
                ("TSUDOI_LISTEN", "127.0.0.1:4000"),
                ("TSUDOI_REGISTRATION", "closed"),
            ]),
        )
        .unwrap();
        assert_eq!(c.settings.base_url(), "http://127.0.0.1:4000");
        assert_eq!(c.settings.registration, RegistrationMode::Closed);
        let err = Config::load_with_env(None, env_of(&[("TSUDOI_LISTEN", "nope")])).unwrap_err();
        assert!(err.to_string().contains("`listen`"), "{err}");
        let err = Config::load_with_env(None, env_of(&[("TSUDOI_DATABASE_URL", "mysql://x")]))
            .unwrap_err();
        assert!(err.to_string().contains("`database_url`"), "{err}");
    }

    #[test]
    fn the_plugin_kv_quota_comes_from_the_file_or_the_environment_within_its_range() {
        let quota = |c: Config| c.settings.plugin_kv_quota_bytes;
        let c = Config::load_with_env(None, env_of(&[])).unwrap();
        assert_eq!(quota(c), tsudoi_plugin_host::KV_QUOTA_BYTES);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[plugins]\nkv_quota_bytes = 65536\n").unwrap();
        assert_eq!(
            quota(Config::load_with_env(Some(&path), env_of(&[])).unwrap()),
            65536
        );
        let small = [("TSUDOI_PLUGIN_KV_QUOTA_BYTES", "8192")];
        assert_eq!(
            quota(Config::load_with_env(Some(&path), env_of(&small)).unwrap()),
            8192
        );
        for bad in ["100", "4294967296000", "-1", "lots"] {
            let pairs = [("TSUDOI_PLUGIN_KV_QUOTA_BYTES", bad)];
            let err = Config::load_with_env(None, env_of(&pairs)).unwrap_err();
            assert!(
                err.to_string().contains("plugins.kv_quota_bytes"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_drive_keeps_files_on_disk_with_misskeys_limits_unless_told_otherwise() {
        let c = Config::load_with_env(None, env_of(&[("TSUDOI_DATA_DIR", "/srv/t")])).unwrap();
        assert!(matches!(&c.file_storage, Backend::Local(p) if p == Path::new("/srv/t/files")));
        assert_eq!(c.settings.drive.capacity_bytes, 100 << 20);
        assert_eq!(c.settings.drive.max_file_bytes, 30 << 20);
        assert!(
            c.settings
                .drive
                .uploadable_types
                .contains(&"image/*".to_owned())
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[drive]\ncapacity_mb = 2048\nuploadable_types = [\"image/*\"]\n\
             [drive.s3]\nbucket = \"b\"\naccess_key_id = \"k\"\nsecret_access_key = \"s\"\n",
        )
        .unwrap();
        let env = [
            ("TSUDOI_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("TSUDOI_DRIVE_MAX_FILE_MB", "5"),
        ];
        let c = Config::load_with_env(Some(&path), env_of(&env)).unwrap();
        assert_eq!(c.settings.drive.capacity_bytes, 2048 << 20);
        assert_eq!(c.settings.drive.max_file_bytes, 5 << 20);
        assert_eq!(c.settings.drive.uploadable_types, ["image/*"]);
        let Backend::S3(s3) = &c.file_storage else {
            panic!("expected S3, got {:?}", c.file_storage);
        };
        assert_eq!(s3.bucket, "b");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(
            s3.path_style,
            "a self-hosted endpoint takes the bucket in the path"
        );
        assert_eq!(s3.region, "us-east-1");

        for (pairs, key) in [
            (
                vec![("TSUDOI_S3_BUCKET", "only-a-bucket")],
                "drive.s3.access_key_id",
            ),
            (vec![("TSUDOI_DRIVE_CAPACITY_MB", "0")], "drive.capacity_mb"),
            (
                vec![("TSUDOI_DRIVE_UPLOADABLE_TYPES", "images")],
                "drive.uploadable_types",
            ),
            (
                vec![
                    ("TSUDOI_S3_ENDPOINT", "ftp://x"),
                    ("TSUDOI_S3_BUCKET", "b"),
                    ("TSUDOI_S3_ACCESS_KEY_ID", "k"),
                    ("TSUDOI_S3_SECRET_ACCESS_KEY", "s"),
                ],
                "drive.s3.endpoint",
            ),
        ] {
            let err = Config::load_with_env(None, env_of(&pairs)).unwrap_err();
            assert!(err.to_string().contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn search_is_on_unless_turned_off() {
        let c = Config::load_with_env(None, env_of(&[])).unwrap();
        assert!(c.settings.search.notes && c.settings.search.users);
        let off = [("TSUDOI_SEARCH_NOTES", "false")];
        let c = Config::load_with_env(None, env_of(&off)).unwrap();
        assert!(!c.settings.search.notes && c.settings.search.users);
        let bad = [("TSUDOI_SEARCH_USERS", "maybe")];
        let err = Config::load_with_env(None, env_of(&bad)).unwrap_err();
        assert!(err.to_string().contains("search.users"), "{err}");
    }

    #[test]
    fn dead_servers_are_suspended_after_whole_or_fractional_hours() {
        let dead_after = |c: Config| c.federation.dead_after;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[federation]\ndead_after_hours = 48\n").unwrap();
        assert_eq!(
            dead_after(Config::load_with_env(Some(&path), env_of(&[])).unwrap()),
            Duration::from_secs(48 * 3600)
        );
        let quick = [("TSUDOI_FEDERATION_DEAD_AFTER_HOURS", "0.5")];
        assert_eq!(
            dead_after(Config::load_with_env(Some(&path), env_of(&quick)).unwrap()),
            Duration::from_secs(1800)
        );
        for bad in ["0", "-1", "soon"] {
            let pairs = [("TSUDOI_FEDERATION_DEAD_AFTER_HOURS", bad)];
            let err = Config::load_with_env(None, env_of(&pairs)).unwrap_err();
            assert!(
                err.to_string().contains("federation.dead_after_hours"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:1\"\n").unwrap();
        let err = Config::load_with_env(Some(&path), env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }
}
