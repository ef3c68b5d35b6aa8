//! Pictures of images: their size as shown (after EXIF orientation), a thumbnail for
//! timelines, and a blurhash clients paint while the thumbnail loads.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::MediaError;

/// The box a thumbnail fits in: Misskey's (`resize(498, 422, fit: inside)`), which its
/// clients lay timelines out for.
pub const THUMBNAIL_BOX: (u32, u32) = (498, 422);

/// Decoding stops past these, so a small file that inflates to gigapixels (a decompression
/// bomb) costs nothing. 256 MiB holds a 64-megapixel RGBA picture, larger than any camera's.
const MAX_SIDE: u32 = 16_384;
const MAX_DECODED_BYTES: u64 = 256 << 20;

/// An image as it is shown: decoded, turned upright.
pub struct Picture {
    pub image: DynamicImage,
    /// Whether the file asked to be turned (its stored copy must then be re-encoded upright,
    /// since the EXIF that said so is stripped).
    pub was_turned: bool,
}

pub fn format_of(media_type: &str) -> Option<ImageFormat> {
    match media_type {
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/png" | "image/apng" => Some(ImageFormat::Png),
        "image/webp" => Some(ImageFormat::WebP),
        "image/gif" => Some(ImageFormat::Gif),
        _ => None,
    }
}

/// Decodes the image (the first frame of an animation) within the limits and applies its
/// EXIF orientation.
pub fn decode(data: &[u8], format: ImageFormat) -> Result<Picture, MediaError> {
    let unreadable = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => MediaError::TooManyPixels,
        e => MediaError::Undecodable(e.to_string()),
    };
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    // Some writers (libvips among them) keep JPEG's `Exif\0\0` prefix in other formats'
    // EXIF blocks, which the decoders' own orientation reading does not expect.
    let orientation = decoder
        .exif_metadata()
        .ok()
        .flatten()
        .and_then(|exif| {
            Orientation::from_exif_chunk(exif.strip_prefix(b"Exif\0\0").unwrap_or(&exif))
        })
        .unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    Ok(Picture {
        image,
        was_turned: orientation != Orientation::NoTransforms,
    })
}

/// The upright picture in its own format, for a file whose orientation was only in its
/// EXIF. JPEG at quality 92 (visually lossless); PNG and WebP losslessly.
pub fn reencode(picture: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    let result = match format {
        ImageFormat::Jpeg => picture
            .to_rgb8()
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 92)),
        ImageFormat::Png => picture.write_with_encoder(PngEncoder::new(&mut out)),
        ImageFormat::WebP => picture
            .to_rgba8()
            .write_with_encoder(WebPEncoder::new_lossless(&mut out)),
        other => picture.write_to(&mut Cursor::new(&mut out), other),
    };
    result.map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(out)
}

/// An encoded thumbnail and its type.
pub struct Thumbnail {
    pub media_type: &'static str,
    pub data: Vec<u8>,
}

/// The picture scaled down to fit `(w, h)`, never enlarged.
pub fn fit(picture: &DynamicImage, (w, h): (u32, u32)) -> DynamicImage {
    if picture.width() > w || picture.height() > h {
        picture.thumbnail(w, h)
    } else {
        picture.clone()
    }
}

/// A thumbnail fitting [`THUMBNAIL_BOX`].
pub fn thumbnail(picture: &DynamicImage) -> Result<Thumbnail, MediaError> {
    encode_still(&fit(picture, THUMBNAIL_BOX))
}

/// A small still picture encoded for the web. Opaque pictures become JPEG, several times
/// smaller than lossless WebP for photos; pictures with transparency become lossless WebP,
/// which keeps it.
pub fn encode_still(small: &DynamicImage) -> Result<Thumbnail, MediaError> {
    let mut data = Vec::new();
    let encode = |e: image::ImageError| MediaError::Encode(e.to_string());
    if small.color().has_alpha() {
        small
            .to_rgba8()
            .write_with_encoder(WebPEncoder::new_lossless(&mut data))
            .map_err(encode)?;
        Ok(Thumbnail {
            media_type: "image/webp",
            data,
        })
    } else {
        small
            .to_rgb8()
            .write_with_encoder(JpegEncoder::new_with_quality(&mut data, 80))
            .map_err(encode)?;
        Ok(Thumbnail {
            media_type: "image/jpeg",
            data,
        })
    }
}

/// The blurhash of the picture, from a copy at most 64 pixels wide with 5×5 components (as
/// Misskey computes it: enough for the colours' layout, cheap to paint).
pub fn blurhash(picture: &DynamicImage) -> Option<String> {
    let tiny = picture.thumbnail(64, 64).to_rgba8();
    blurhash::encode(5, 5, tiny.width(), tiny.height(), tiny.as_raw()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        img.write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90))
            .unwrap();
        out
    }

    #[test]
    fn a_large_photo_gets_a_jpeg_thumbnail_inside_the_box_and_a_blurhash() {
        let picture = decode(&jpeg(1200, 900), ImageFormat::Jpeg).unwrap();
        assert!(!picture.was_turned);
        let thumb = thumbnail(&picture.image).unwrap();
        assert_eq!(thumb.media_type, "image/jpeg");
        let small = image::load_from_memory(&thumb.data).unwrap();
        assert_eq!(small.width(), 498, "fits the box's width at 4:3");
        assert!(small.height() <= 422);
        let hash = blurhash(&picture.image).unwrap();
        assert_eq!(hash.len(), 4 + 2 * 5 * 5, "5x5 components");
    }

    #[test]
    fn transparent_pictures_keep_their_alpha_in_a_webp_thumbnail() {
        let img = RgbaImage::from_pixel(40, 30, Rgba([10, 20, 30, 0]));
        let thumb = thumbnail(&DynamicImage::ImageRgba8(img)).unwrap();
        assert_eq!(thumb.media_type, "image/webp");
        let back = image::load_from_memory(&thumb.data).unwrap();
        assert_eq!((back.width(), back.height()), (40, 30), "never enlarged");
    }

    #[test]
    fn a_picture_too_large_to_decode_is_refused_before_it_is_decoded() {
        // A 40-byte GIF claiming 60000 x 60000 pixels (3.6 gigapixels).
        let gif = |side: u16| {
            let mut g = b"GIF89a".to_vec();
            g.extend_from_slice(&side.to_le_bytes());
            g.extend_from_slice(&side.to_le_bytes());
            g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255, 0x2C, 0, 0, 0, 0]);
            g.extend_from_slice(&side.to_le_bytes());
            g.extend_from_slice(&side.to_le_bytes());
            g.extend_from_slice(&[0, 2, 2, 0x44, 0x01, 0, 0x3B]);
            g
        };
        assert!(decode(&gif(1), ImageFormat::Gif).is_ok());
        assert!(matches!(
            decode(&gif(60_000), ImageFormat::Gif),
            Err(MediaError::TooManyPixels)
        ));
    }
}
