//! Removing what a file says about where and how it was made (EXIF with GPS, XMP, IPTC,
//! comments, camera and software names) without touching its picture or sound.
//!
//! Each format is walked by its own container structure and rewritten without its metadata
//! blocks, so nothing is re-encoded and nothing is lost but the metadata. A file whose
//! structure cannot be followed is refused rather than stored with its metadata intact.

use crate::MediaError;

/// `data` without its metadata, for the formats that carry it; other types come back as
/// they are.
pub fn strip(media_type: &str, data: &[u8]) -> Result<Vec<u8>, MediaError> {
    match media_type {
        "image/jpeg" => jpeg(data),
        "image/png" | "image/apng" => png(data),
        "image/webp" => webp(data),
        "image/gif" => gif(data),
        t if is_iso_media(t) => Ok(iso_media(data)?),
        _ => Ok(data.to_vec()),
    }
}

/// MP4 and QuickTime family files, whose location and device tags live in `udta`/`meta`
/// boxes. (HEIF/AVIF are ISO media too, but their `meta` box *is* the picture.)
fn is_iso_media(media_type: &str) -> bool {
    matches!(
        media_type,
        "video/mp4" | "video/quicktime" | "video/x-m4v" | "audio/mp4" | "audio/m4a" | "audio/x-m4a"
    )
}

fn malformed(format: &str, why: &str) -> MediaError {
    MediaError::Malformed(format!("{format}: {why}"))
}

/// JPEG: keeps the segments that decide how the picture looks (JFIF, the ICC colour profile,
/// Adobe's colour transform, tables, frames and scans) and drops every other application
/// segment and comment, and anything after the end of the image (phones append whole
/// videos and maker data there).
fn jpeg(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    let bad = |why| malformed("JPEG", why);
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(bad("no start-of-image marker"));
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    loop {
        // A marker: 0xFF, optional fill bytes, then its code.
        if data.get(i) != Some(&0xFF) {
            return Err(bad("a segment does not start with a marker"));
        }
        while data.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&code) = data.get(i) else {
            return Err(bad("the file ends inside a marker"));
        };
        i += 1;
        match code {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, code]);
                continue;
            }
            _ => {}
        }
        let len = data
            .get(i..i + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| bad("the file ends inside a segment length"))?;
        if len < 2 {
            return Err(bad("a segment is shorter than its own length field"));
        }
        let segment = data
            .get(i..i + len)
            .ok_or_else(|| bad("a segment runs past the end of the file"))?;
        let payload = &segment[2..];
        let keep = match code {
            0xE0 => true,                                  // JFIF
            0xE2 => payload.starts_with(b"ICC_PROFILE\0"), // not MPF, which points at hidden images
            0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,     // EXIF, XMP, IPTC, vendors', comments
            0xEE => true,                                  // Adobe: how to read the colours
            _ => true,                                     // tables, frame headers, scans
        };
        if keep {
            out.extend_from_slice(&[0xFF, code]);
            out.extend_from_slice(segment);
        }
        i += len;
        if code == 0xDA {
            // Entropy-coded data follows a scan header, up to the next marker that is not
            // a stuffed 0xFF or a restart.
            let start = i;
            loop {
                match data.get(i..i + 2) {
                    None => return Err(bad("the file ends inside a scan")),
                    Some([0xFF, next]) if *next == 0x00 || (0xD0..=0xD7).contains(next) => i += 2,
                    Some([0xFF, _]) => break,
                    Some(_) => i += 1,
                }
            }
            out.extend_from_slice(&data[start..i]);
        }
    }
}

/// PNG: drops the text, time and EXIF chunks and anything after the last chunk.
fn png(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let bad = |why| malformed("PNG", why);
    if !data.starts_with(SIGNATURE) {
        return Err(bad("no PNG signature"));
    }
    let mut out = SIGNATURE.to_vec();
    let mut i = SIGNATURE.len();
    loop {
        let header = data
            .get(i..i + 8)
            .ok_or_else(|| bad("the file ends before its last chunk"))?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = &header[4..8];
        let end = i
            .checked_add(12)
            .and_then(|n| n.checked_add(len))
            .filter(|&end| end <= data.len())
            .ok_or_else(|| bad("a chunk runs past the end of the file"))?;
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME") {
            out.extend_from_slice(&data[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

/// WebP: drops the `EXIF` and `XMP ` chunks and clears their flags in the extended header.
fn webp(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    let bad = |why| malformed("WebP", why);
    if data.len() < 12 || &data[0..4] != b"RIFF" || &data[8..12] != b"WEBP" {
        return Err(bad("no RIFF WEBP header"));
    }
    let declared = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
    let end = declared
        .checked_add(8)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| bad("the RIFF size runs past the end of the file"))?;
    let mut chunks = Vec::with_capacity(data.len());
    let mut i = 12;
    while i < end {
        let header = data
            .get(i..i + 8)
            .ok_or_else(|| bad("the file ends inside a chunk header"))?;
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let padded = len + (len & 1);
        let chunk_end = (i + 8)
            .checked_add(padded)
            .filter(|&e| e <= end)
            .ok_or_else(|| bad("a chunk runs past the end of the file"))?;
        match &header[0..4] {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let mut chunk = data[i..chunk_end].to_vec();
                if let Some(flags) = chunk.get_mut(8) {
                    *flags &= !(0x08 | 0x04);
                }
                chunks.extend_from_slice(&chunk);
            }
            _ => chunks.extend_from_slice(&data[i..chunk_end]),
        }
        i = chunk_end;
    }
    let size = u32::try_from(chunks.len() + 4).map_err(|_| bad("too large"))?;
    let mut out = Vec::with_capacity(chunks.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunks);
    Ok(out)
}

/// GIF: keeps the frames, their timing and the loop count; drops comments and every other
/// application extension (XMP lives in one).
fn gif(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    let bad = |why| malformed("GIF", why);
    if data.len() < 13 || !(data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a")) {
        return Err(bad("no GIF header"));
    }
    let table = |flags: u8| {
        if flags & 0x80 != 0 {
            3 * (1usize << ((flags & 0x07) + 1))
        } else {
            0
        }
    };
    // Sub-blocks: length-prefixed, ended by a zero length. Returns the index after them.
    let sub_blocks = |mut i: usize| -> Result<usize, MediaError> {
        loop {
            let len = *data
                .get(i)
                .ok_or_else(|| bad("the file ends inside a block"))?;
            i += 1 + usize::from(len);
            if len == 0 {
                return Ok(i);
            }
        }
    };
    let mut i = 13 + table(data[10]);
    if i > data.len() {
        return Err(bad("the colour table runs past the end of the file"));
    }
    let mut out = data[..i].to_vec();
    loop {
        match data.get(i) {
            Some(0x3B) => {
                out.push(0x3B);
                return Ok(out);
            }
            Some(0x2C) => {
                let flags = *data
                    .get(i + 9)
                    .ok_or_else(|| bad("a frame header is cut"))?;
                // Descriptor, local table, LZW code size, then the image data.
                let data_start = i + 10 + table(flags) + 1;
                let end = sub_blocks(data_start)?;
                out.extend_from_slice(data.get(i..end).ok_or_else(|| bad("a frame is cut"))?);
                i = end;
            }
            Some(0x21) => {
                let label = *data.get(i + 1).ok_or_else(|| bad("an extension is cut"))?;
                let end = sub_blocks(i + 2)?;
                let block = data.get(i..end).ok_or_else(|| bad("an extension is cut"))?;
                let keep = match label {
                    0xF9 | 0x01 => true, // frame timing, plain text
                    0xFF => {
                        let app = block.get(3..14).unwrap_or_default();
                        app == b"NETSCAPE2.0" || app == b"ANIMEXTS1.0"
                    }
                    _ => false, // comments and anything else
                };
                if keep {
                    out.extend_from_slice(block);
                }
                i = end;
            }
            // Some encoders stop without a trailer: end the file properly.
            None => {
                out.push(0x3B);
                return Ok(out);
            }
            Some(_) => return Err(bad("an unknown block")),
        }
    }
}

/// ISO media (MP4, MOV): user data, metadata and UUID boxes (where cameras put location,
/// device and XMP) become `free` boxes of the same size filled with zeros, so the offsets
/// the sample tables hold into the file stay right.
fn iso_media(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    let mut out = data.to_vec();
    blank_boxes(&mut out, 0, data.len(), 0)?;
    Ok(out)
}

fn blank_boxes(data: &mut [u8], start: usize, end: usize, depth: u8) -> Result<(), MediaError> {
    let bad = |why| malformed("MP4", why);
    if depth > 8 {
        return Err(bad("boxes are nested too deeply"));
    }
    let mut i = start;
    while i + 8 <= end {
        let size32 = u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        let kind: [u8; 4] = [data[i + 4], data[i + 5], data[i + 6], data[i + 7]];
        let (header, size) = match size32 {
            0 => (8, end - i),
            1 => {
                let large = data
                    .get(i + 8..i + 16)
                    .map(|b| u64::from_be_bytes(b.try_into().unwrap_or_default()))
                    .ok_or_else(|| bad("a box's 64-bit size is cut"))?;
                (
                    16,
                    usize::try_from(large).map_err(|_| bad("a box is too large"))?,
                )
            }
            n => (8, n as usize),
        };
        let box_end = i
            .checked_add(size)
            .filter(|&e| size >= header && e <= end)
            .ok_or_else(|| bad("a box runs past its parent"))?;
        match &kind {
            b"udta" | b"meta" | b"uuid" | b"XMP_" => {
                data[i + 4..i + 8].copy_from_slice(b"free");
                data[i + header..box_end].fill(0);
            }
            b"moov" | b"trak" | b"mdia" | b"minf" | b"edts" => {
                blank_boxes(data, i + header, box_end, depth + 1)?
            }
            _ => {}
        }
        i = box_end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn jpeg_segments_other_than_the_picture_are_dropped_with_the_trailer() {
        let mut jpeg = vec![0xFF, 0xD8];
        let segment = |code: u8, payload: &[u8]| {
            let mut s = vec![0xFF, code];
            s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
            s.extend_from_slice(payload);
            s
        };
        jpeg.extend(segment(0xE0, b"JFIF\0\x01\x01"));
        jpeg.extend(segment(0xE1, b"Exif\0\0GPS-SECRET"));
        jpeg.extend(segment(0xE2, b"ICC_PROFILE\0colours"));
        jpeg.extend(segment(0xE2, b"MPF\0hidden"));
        jpeg.extend(segment(0xFE, b"a comment"));
        jpeg.extend(segment(0xDB, b"tables"));
        jpeg.extend(segment(0xDA, b"scan"));
        jpeg.extend_from_slice(&[1, 2, 0xFF, 0x00, 3, 0xFF, 0xD0, 4]);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        jpeg.extend_from_slice(b"trailing maker data");
        let clean = strip("image/jpeg", &jpeg).unwrap();
        assert!(!contains(&clean, b"GPS-SECRET"));
        assert!(!contains(&clean, b"hidden"));
        assert!(!contains(&clean, b"a comment"));
        assert!(!contains(&clean, b"trailing"));
        assert!(contains(&clean, b"ICC_PROFILE\0colours"));
        assert!(contains(
            &clean,
            &[1, 2, 0xFF, 0x00, 3, 0xFF, 0xD0, 4, 0xFF, 0xD9]
        ));
        assert!(strip("image/jpeg", &jpeg[..jpeg.len() - 40]).is_err());
    }

    #[test]
    fn png_text_and_exif_chunks_are_dropped() {
        let chunk = |kind: &[u8], payload: &[u8]| {
            let mut c = (payload.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(payload);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"eXIf", b"GPS-SECRET"));
        png.extend(chunk(b"tEXt", b"Author\0me"));
        png.extend(chunk(b"IDAT", b"pixels"));
        png.extend(chunk(b"IEND", b""));
        let clean = strip("image/png", &png).unwrap();
        assert!(!contains(&clean, b"GPS-SECRET") && !contains(&clean, b"Author"));
        assert!(
            contains(&clean, b"IDATpixels")
                && clean.ends_with(&[b'I', b'E', b'N', b'D', 0, 0, 0, 0])
        );
    }

    #[test]
    fn webp_exif_is_dropped_and_its_flag_cleared() {
        let chunk = |kind: &[u8], payload: &[u8]| {
            let mut c = kind.to_vec();
            c.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            c.extend_from_slice(payload);
            if payload.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        let mut body = b"WEBP".to_vec();
        body.extend(chunk(
            b"VP8X",
            &[0x08 | 0x04 | 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ));
        body.extend(chunk(b"VP8L", b"pixels!"));
        body.extend(chunk(b"EXIF", b"GPS-SECRET"));
        body.extend(chunk(b"XMP ", b"<xmp/>"));
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&(body.len() as u32).to_le_bytes());
        webp.extend(body);
        let clean = strip("image/webp", &webp).unwrap();
        assert!(!contains(&clean, b"GPS-SECRET") && !contains(&clean, b"<xmp/>"));
        assert_eq!(clean[20], 0x10, "only the alpha flag is left");
        let size = u32::from_le_bytes(clean[4..8].try_into().unwrap()) as usize;
        assert_eq!(size + 8, clean.len());
    }

    #[test]
    fn gif_comments_and_foreign_application_blocks_are_dropped() {
        let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
        gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        gif.extend_from_slice(b"\x21\xFE\x0AGPS-SECRET\x00");
        gif.extend_from_slice(b"\x21\xFF\x0BXMP DataXMP\x05<xmp>\x00");
        gif.extend_from_slice(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00");
        gif.extend_from_slice(b"\x21\xF9\x04\x00\x0A\x00\x00\x00");
        gif.extend_from_slice(b"\x2C\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00");
        gif.push(0x3B);
        let clean = strip("image/gif", &gif).unwrap();
        assert!(!contains(&clean, b"GPS-SECRET") && !contains(&clean, b"<xmp>"));
        assert!(contains(&clean, b"NETSCAPE2.0"));
        assert!(clean.ends_with(b"\x02\x02\x44\x01\x00\x3B"));
    }

    #[test]
    fn mp4_user_data_becomes_free_space_of_the_same_size() {
        let bx = |kind: &[u8], payload: &[u8]| {
            let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(kind);
            b.extend_from_slice(payload);
            b
        };
        let udta = bx(b"udta", &bx(b"\xA9xyz", b"+35.6586+139.7454/"));
        let mut moov_body = bx(b"mvhd", &[0; 20]);
        moov_body.extend(udta);
        let mut mp4 = bx(b"ftyp", b"isom\0\0\0\0isommp41");
        mp4.extend(bx(b"moov", &moov_body));
        mp4.extend(bx(b"mdat", b"frames"));
        let clean = strip("video/mp4", &mp4).unwrap();
        assert_eq!(clean.len(), mp4.len());
        assert!(!contains(&clean, b"+35.6586") && !contains(&clean, b"udta"));
        assert!(contains(&clean, b"free") && contains(&clean, b"mdatframes"));
    }
}
