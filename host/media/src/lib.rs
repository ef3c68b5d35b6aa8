//! Media: what an uploaded file really is, the file without its metadata, previews of
//! pictures, and the store files' bytes are kept in.
//!
//! Everything here is free of the database and of HTTP: [`process`] turns bytes into what is
//! stored (CPU work, to be run off the async threads), and [`blobs::Blobs`] keeps them.

pub mod blobs;
pub mod clean;
pub mod preview;

use md5::{Digest, Md5};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the file is damaged: {0}")]
    Malformed(String),
    #[error("the picture cannot be decoded: {0}")]
    Undecodable(String),
    #[error("the picture has too many pixels to decode")]
    TooManyPixels,
    #[error("the picture cannot be encoded: {0}")]
    Encode(String),
}

/// What a file is by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub media_type: &'static str,
    /// The usual file name extension, without the dot; empty when there is none.
    pub extension: &'static str,
}

/// What `data` is by its content, never by its name or what the client claims: magic
/// numbers first, then UTF-8 text, then opaque bytes.
pub fn sniff(data: &[u8]) -> Kind {
    if let Some(found) = infer::get(data) {
        return Kind {
            media_type: found.mime_type(),
            extension: found.extension(),
        };
    }
    if !data.contains(&0) && std::str::from_utf8(data).is_ok() {
        Kind {
            media_type: "text/plain",
            extension: "txt",
        }
    } else {
        Kind {
            media_type: "application/octet-stream",
            extension: "",
        }
    }
}

/// A picture's facts and previews.
pub struct PictureInfo {
    /// As shown, after EXIF orientation.
    pub width: u32,
    pub height: u32,
    pub blurhash: Option<String>,
    pub thumbnail: Option<preview::Thumbnail>,
}

/// An upload made ready to store.
pub struct Processed {
    pub kind: Kind,
    /// The file without its metadata (re-encoded upright if only its EXIF turned it).
    pub data: Vec<u8>,
    /// Hex MD5 of `data`, as Misskey reports it.
    pub md5: String,
    /// For pictures this server can decode.
    pub picture: Option<PictureInfo>,
}

/// Sniffs, cleans and previews an upload. A file that claims a format it does not follow is
/// refused; a picture that cannot be decoded is kept without previews.
pub fn process(data: &[u8]) -> Result<Processed, MediaError> {
    let kind = sniff(data);
    let media_type = kind.media_type;
    let mut stored = clean::strip(media_type, data)?;
    let picture = match preview::format_of(media_type).map(|f| (f, preview::decode(data, f))) {
        Some((format, Ok(picture))) => {
            if picture.was_turned {
                stored = preview::reencode(&picture.image, format)?;
            }
            let thumbnail = preview::thumbnail(&picture.image)
                .inspect_err(|e| tracing::warn!(error = %e, "no thumbnail"))
                .ok();
            Some(PictureInfo {
                width: picture.image.width(),
                height: picture.image.height(),
                blurhash: preview::blurhash(&picture.image),
                thumbnail,
            })
        }
        Some((_, Err(e))) => {
            tracing::info!(error = %e, media_type, "a picture is kept without previews");
            None
        }
        None => None,
    };
    Ok(Processed {
        kind,
        md5: hex_md5(&stored),
        data: stored,
        picture,
    })
}

pub fn hex_md5(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::jpeg::JpegEncoder;
    use image::{Rgb, RgbImage};

    /// A JPEG 40 wide and 20 high whose EXIF says to turn it a quarter (orientation 6) and
    /// carries a GPS tag.
    fn turned_jpeg_with_gps() -> Vec<u8> {
        let img = RgbImage::from_pixel(40, 20, Rgb([200, 30, 30]));
        let mut jpeg = Vec::new();
        img.write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 90))
            .unwrap();
        // TIFF, little-endian: IFD0 with Orientation = 6 and a GPS IFD pointer, then the
        // GPS IFD with one ASCII tag holding a marker string.
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
        tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
        tiff.extend_from_slice(&0u32.to_le_bytes());
        tiff.extend_from_slice(&1u16.to_le_bytes());
        tiff.extend_from_slice(&[0x01, 0, 2, 0, 12, 0, 0, 0, 56, 0, 0, 0]);
        tiff.extend_from_slice(&0u32.to_le_bytes());
        tiff.extend_from_slice(b"GPS-SECRET!\0");
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend(app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn a_turned_photo_is_stored_upright_without_its_exif() {
        let original = turned_jpeg_with_gps();
        let done = process(&original).unwrap();
        assert_eq!(done.kind.media_type, "image/jpeg");
        assert!(!done.data.windows(10).any(|w| w == b"GPS-SECRET"));
        assert!(!done.data.windows(4).any(|w| w == b"Exif"));
        let picture = done.picture.unwrap();
        assert_eq!(
            (picture.width, picture.height),
            (20, 40),
            "turned a quarter"
        );
        let stored = image::load_from_memory(&done.data).unwrap();
        assert_eq!((stored.width(), stored.height()), (20, 40));
        assert!(picture.thumbnail.is_some() && picture.blurhash.is_some());
        assert_eq!(done.md5, hex_md5(&done.data));
    }

    #[test]
    fn the_name_and_claimed_type_do_not_matter_only_the_content() {
        let media_type = |data: &[u8]| sniff(data).media_type;
        assert_eq!(
            media_type(b"<!DOCTYPE html><script>alert(1)</script>"),
            "text/html"
        );
        assert_eq!(media_type(b"just words"), "text/plain");
        assert_eq!(media_type(&[0, 1, 2, 3, 0xFF]), "application/octet-stream");
        assert_eq!(sniff(&turned_jpeg_with_gps()).extension, "jpg");
    }

    #[test]
    fn a_file_that_claims_a_format_it_does_not_follow_is_refused() {
        let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
        fake.extend_from_slice(b"\0\0\0\x0dIHDR but cut short");
        assert!(matches!(process(&fake), Err(MediaError::Malformed(_))));
    }
}
