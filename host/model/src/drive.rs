//! The drive: users' files and the folders they sort them into.

/// A file in someone's drive: uploaded here, or (with `uri`) another server's, shown through
/// the media proxy and not kept here.
#[derive(Debug, Clone, PartialEq)]
pub struct DriveFile {
    pub id: String,
    pub user_id: String,
    /// The owner's host; `None` for local users.
    pub user_host: Option<String>,
    pub folder_id: Option<String>,
    pub name: String,
    /// The media type found in its content (never the name's or the client's claim).
    pub media_type: String,
    /// Hex MD5 of the stored bytes; `None` for a remote file not kept here.
    pub md5: Option<String>,
    pub size: i64,
    pub is_sensitive: bool,
    /// The description for those who cannot see it (alt text).
    pub comment: Option<String>,
    pub blurhash: Option<String>,
    /// As shown (after EXIF orientation), for pictures.
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Where the bytes are in the blob store; `None` when they are not kept here.
    pub storage_key: Option<String>,
    pub thumbnail_key: Option<String>,
    pub thumbnail_type: Option<String>,
    /// The remote file's URL, for another server's file.
    pub uri: Option<String>,
    pub created_at: i64,
}

impl DriveFile {
    /// The keys of its bytes and its thumbnail in the blob store.
    pub fn blob_keys(&self) -> Vec<&str> {
        [&self.storage_key, &self.thumbnail_key]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// A folder in someone's drive.
#[derive(Debug, Clone, PartialEq)]
pub struct DriveFolder {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub created_at: i64,
}

/// Changes to a file's details; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DriveFilePatch {
    pub name: Option<String>,
    /// `Some(None)` moves it to the root.
    pub folder_id: Option<Option<String>>,
    pub is_sensitive: Option<bool>,
    /// `Some(None)` clears it.
    pub comment: Option<Option<String>>,
}

/// Types a browser runs as a page or script when shown. A family pattern (`text/*`) or `*`
/// never admits them; an admin who wants them must list them by name.
const ACTIVE_TYPES: &[&str] = &[
    "text/html",
    "text/xml",
    "application/xml",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/javascript",
    "application/javascript",
];

/// Whether a media type is admitted by one of `patterns` (`image/png`, or `image/*` for a
/// whole family, or `*` for anything), as Misskey's `uploadableFileTypes` lists them.
pub fn type_admitted(media_type: &str, patterns: &[String]) -> bool {
    let active = ACTIVE_TYPES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(media_type));
    patterns.iter().any(|p| match p.strip_suffix("/*") {
        _ if p == "*" || p == "*/*" => !active,
        Some(family) => {
            !active
                && media_type
                    .split_once('/')
                    .is_some_and(|(f, _)| f.eq_ignore_ascii_case(family))
        }
        None => p.eq_ignore_ascii_case(media_type),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_admitted_by_family_exact_name_or_anything() {
        let allowed: Vec<String> = ["image/*", "application/json"].map(String::from).to_vec();
        assert!(type_admitted("image/png", &allowed));
        assert!(type_admitted("application/json", &allowed));
        assert!(!type_admitted("text/html", &allowed));
        assert!(!type_admitted("imagex/png", &allowed));
        assert!(type_admitted("image/png", &["*".to_owned()]));
        assert!(!type_admitted("image/png", &[]));
        // Pages and scripts only when named.
        assert!(!type_admitted(
            "text/html",
            &["*".to_owned(), "text/*".to_owned()]
        ));
        assert!(!type_admitted("image/svg+xml", &["image/*".to_owned()]));
        assert!(type_admitted("text/html", &["text/html".to_owned()]));
    }
}
