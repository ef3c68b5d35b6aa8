//! `DriveFile` and `DriveFolder`, packed from the core's files (with their URLs worked out)
//! and folders.

use serde::Serialize;
use tsudoi_core::drive::{FolderDetail, ShownFile};

use super::iso;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveFile<'a> {
    id: &'a str,
    created_at: String,
    name: &'a str,
    #[serde(rename = "type")]
    media_type: &'a str,
    md5: &'a str,
    size: i64,
    is_sensitive: bool,
    blurhash: Option<&'a str>,
    properties: Properties,
    url: &'a str,
    thumbnail_url: Option<&'a str>,
    comment: Option<&'a str>,
    folder_id: Option<&'a str>,
    folder: Option<DriveFolder<'a>>,
    user_id: Option<&'a str>,
}

/// A picture's size as shown (already turned upright, so no `orientation`).
#[derive(Debug, Serialize)]
struct Properties {
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<i64>,
}

impl<'a> DriveFile<'a> {
    pub fn pack(shown: &'a ShownFile) -> Self {
        let f = &shown.file;
        DriveFile {
            id: &f.id,
            created_at: iso(f.created_at),
            name: &f.name,
            media_type: &f.media_type,
            md5: f.md5.as_deref().unwrap_or_default(),
            size: f.size,
            is_sensitive: f.is_sensitive,
            blurhash: f.blurhash.as_deref(),
            properties: Properties {
                width: f.width,
                height: f.height,
            },
            url: &shown.url,
            thumbnail_url: shown.thumbnail_url.as_deref(),
            comment: f.comment.as_deref(),
            folder_id: f.folder_id.as_deref(),
            folder: None,
            user_id: Some(&f.user_id),
        }
    }

    /// The file as Misskey's `driveFileCreated` carries it (`userId` null).
    pub fn anonymous(mut self) -> Self {
        self.user_id = None;
        self
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveFolder<'a> {
    id: &'a str,
    created_at: String,
    name: &'a str,
    parent_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    folders_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files_count: Option<i64>,
    /// With the detail: the parent, itself with its parent, up to the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<Option<Box<DriveFolder<'a>>>>,
}

impl<'a> DriveFolder<'a> {
    pub fn pack(f: &'a tsudoi_model::DriveFolder) -> Self {
        DriveFolder {
            id: &f.id,
            created_at: iso(f.created_at),
            name: &f.name,
            parent_id: f.parent_id.as_deref(),
            folders_count: None,
            files_count: None,
            parent: None,
        }
    }

    /// A folder with its counts and its chain of parents (Misskey's detailed folder; the
    /// parents' own counts are not shown).
    pub fn detailed(d: &'a FolderDetail) -> Self {
        let mut parent = None;
        for ancestor in d.ancestors.iter().rev() {
            let mut packed = DriveFolder::pack(ancestor);
            packed.parent = Some(parent.take());
            parent = Some(Box::new(packed));
        }
        DriveFolder {
            folders_count: Some(d.folders_count),
            files_count: Some(d.files_count),
            parent: Some(parent),
            ..DriveFolder::pack(&d.folder)
        }
    }
}
