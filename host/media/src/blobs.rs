//! Where files' bytes are kept: a folder on local disk by default, any S3-compatible service
//! when configured. The rest of the server knows only [`Blobs`] and keys; the database keeps
//! which key belongs to which file.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("cannot open the file store: {0}")]
    Open(String),
    #[error("the file store failed: {0}")]
    Io(#[from] object_store::Error),
    #[error("the range cannot be satisfied")]
    BadRange,
}

/// An S3-compatible bucket (AWS, MinIO, Garage, R2, s3s-fs, …).
#[derive(Debug, Clone, Default)]
pub struct S3Config {
    /// The service's URL; AWS's own when `None`.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// A folder inside the bucket for this server's files, so a bucket can be shared.
    pub prefix: Option<String>,
    /// `https://bucket.example.com`: where clients fetch files directly (a CDN or the
    /// bucket's public website). Without it, files are served through this server.
    pub public_url: Option<String>,
    /// Bucket in the path (`endpoint/bucket/key`), as most self-hosted services want, rather
    /// than in the host name (AWS's default).
    pub path_style: bool,
}

/// Which store to open.
#[derive(Debug, Clone)]
pub enum Backend {
    Local(PathBuf),
    S3(S3Config),
}

/// The store files' bytes live in. Cheap to clone.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    public_url: Option<String>,
    object_storage: bool,
}

/// A (part of a) stored file being read.
pub struct BlobRead {
    /// The whole file's size.
    pub size: u64,
    /// The bytes this read returns.
    pub range: Range<u64>,
    pub body: BoxStream<'static, Result<Bytes, BlobError>>,
}

impl Blobs {
    pub fn open(backend: &Backend) -> Result<Self, BlobError> {
        let open = |e: &dyn std::fmt::Display| BlobError::Open(e.to_string());
        match backend {
            Backend::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| open(&e))?;
                let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| open(&e))?;
                Ok(Blobs {
                    store: Arc::new(fs),
                    public_url: None,
                    object_storage: false,
                })
            }
            Backend::S3(c) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&c.bucket)
                    .with_region(&c.region)
                    .with_access_key_id(&c.access_key_id)
                    .with_secret_access_key(&c.secret_access_key)
                    .with_virtual_hosted_style_request(!c.path_style);
                if let Some(endpoint) = &c.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let s3 = builder.build().map_err(|e| open(&e))?;
                let store: Arc<dyn ObjectStore> = match c.prefix.as_deref() {
                    Some(prefix) if !prefix.is_empty() => Arc::new(PrefixStore::new(s3, prefix)),
                    _ => Arc::new(s3),
                };
                Ok(Blobs {
                    store,
                    object_storage: true,
                    public_url: c
                        .public_url
                        .as_ref()
                        .map(|u| u.trim_end_matches('/').to_owned()),
                })
            }
        }
    }

    pub async fn put(&self, key: &str, data: Vec<u8>) -> Result<(), BlobError> {
        self.store
            .put(&Path::from(key), PutPayload::from(data))
            .await?;
        Ok(())
    }

    /// The file at `key` (from byte `range.0` up to and including `range.1`, if given);
    /// `None` if there is no such file.
    pub async fn get(
        &self,
        key: &str,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<Option<BlobRead>, BlobError> {
        let options = GetOptions {
            range: range.map(|(start, end)| match end {
                Some(end) => GetRange::Bounded(start..end + 1),
                None => GetRange::Offset(start),
            }),
            ..GetOptions::default()
        };
        match self.store.get_opts(&Path::from(key), options).await {
            Ok(found) => Ok(Some(BlobRead {
                size: found.meta.size,
                range: found.range.clone(),
                body: found
                    .into_stream()
                    .map(|chunk| chunk.map_err(BlobError::from))
                    .boxed(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) if range.is_some() && is_range_error(&e) => Err(BlobError::BadRange),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the file at `key`; a file that is already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The keys of every stored file last written before `cutoff_ms` (Unix ms), as the
    /// store lists them (in pages, for a bucket of millions).
    pub fn written_before(&self, cutoff_ms: i64) -> BoxStream<'static, Result<String, BlobError>> {
        self.store
            .list(None)
            .filter_map(move |meta| {
                std::future::ready(match meta {
                    Ok(m) if m.last_modified.timestamp_millis() < cutoff_ms => {
                        Some(Ok(m.location.to_string()))
                    }
                    Ok(_) => None,
                    Err(e) => Some(Err(BlobError::from(e))),
                })
            })
            .boxed()
    }

    /// Whether this is an S3-compatible service rather than local disk.
    pub fn is_object_storage(&self) -> bool {
        self.object_storage
    }

    /// Where clients fetch `key` directly, when the store is public; `None` when files go
    /// through this server.
    pub fn public_url(&self, key: &str) -> Option<String> {
        self.public_url.as_ref().map(|base| format!("{base}/{key}"))
    }
}

/// object_store reports an unsatisfiable range as a generic error from each backend.
fn is_range_error(e: &object_store::Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    text.contains("range")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(read: BlobRead) -> Vec<u8> {
        let chunks: Vec<_> = read.body.collect().await;
        chunks
            .into_iter()
            .flat_map(|c| c.unwrap().to_vec())
            .collect()
    }

    #[tokio::test]
    async fn local_files_are_written_read_in_ranges_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(&Backend::Local(dir.path().join("files"))).unwrap();
        blobs.put("abc.jpg", b"0123456789".to_vec()).await.unwrap();
        assert!(dir.path().join("files/abc.jpg").exists());
        let whole = blobs.get("abc.jpg", None).await.unwrap().unwrap();
        assert_eq!((whole.size, whole.range.clone()), (10, 0..10));
        assert_eq!(read_all(whole).await, b"0123456789");
        let part = blobs
            .get("abc.jpg", Some((2, Some(4))))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(part.range, 2..5);
        assert_eq!(read_all(part).await, b"234");
        let tail = blobs
            .get("abc.jpg", Some((7, None)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read_all(tail).await, b"789");
        assert!(matches!(
            blobs.get("abc.jpg", Some((50, None))).await,
            Err(BlobError::BadRange)
        ));
        blobs.delete("abc.jpg").await.unwrap();
        blobs.delete("abc.jpg").await.unwrap();
        assert!(blobs.get("abc.jpg", None).await.unwrap().is_none());
        assert_eq!(blobs.public_url("abc.jpg"), None);
    }
}
