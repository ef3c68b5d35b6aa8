//! `upload-bench`: a phone photo uploaded to the drive, from the first byte of
//! `drive/files/create` until its thumbnail has been served. The photo is a 5 MB JPEG with
//! EXIF (orientation and GPS), so the server sniffs it, turns it upright, strips it,
//! thumbnails it and hashes it. The baseline, in the same run, is a text file of the same
//! size through the same endpoint and the same file route: the request, the write and the
//! read, without the picture work.
//!
//! `cargo build --release -p tsudoi -p tsudoi-bench && target/release/upload-bench --data-dir D`
//! (the `tsudoi` next to it is the server measured).

use std::io::Cursor;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use tsudoi_bench::{ms, start_server};
use tsudoi_model::ids;
use tsudoi_store::{NewLocalUser, Store};

#[derive(Parser, Debug)]
#[command(
    name = "upload-bench",
    about = "Tsudoi's drive: upload to served thumbnail"
)]
struct Args {
    /// Where the measured server keeps its data (made fresh each run).
    #[arg(long)]
    data_dir: PathBuf,
    /// Uploads timed of each kind.
    #[arg(long, default_value_t = 10)]
    uploads: usize,
    /// The photo's size in megabytes.
    #[arg(long, default_value_t = 5.0)]
    megabytes: f64,
}

/// A noisy landscape JPEG of at least `bytes`, with an EXIF block saying "turn a quarter"
/// and carrying a GPS position, as a phone writes it.
fn phone_photo(bytes: usize) -> anyhow::Result<Vec<u8>> {
    let mut width = 2000u32;
    loop {
        let height = width * 3 / 4;
        let mut seed = 0x2545_f491u32;
        let img = RgbImage::from_fn(width, height, |x, y| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = (seed & 0x3f) as u8;
            Rgb([
                (x * 255 / width) as u8 ^ n,
                (y * 255 / height) as u8 ^ n,
                128 ^ n,
            ])
        });
        let mut jpeg = Vec::new();
        img.write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 92))?;
        if jpeg.len() >= bytes {
            return Ok(with_exif(jpeg));
        }
        width = width * 11 / 10;
    }
}

/// `jpeg` with an APP1 EXIF segment: orientation 6 and a GPS IFD with one ASCII tag.
fn with_exif(jpeg: Vec<u8>) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&[0x12, 0, 2, 0, 12, 0, 0, 0, 56, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(b"WGS-84-BNCH\0");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A multipart form as Misskey's clients send it: the token first, then the file.
fn form(token: &str, name: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("----tsudoi-bench-{}", ids::aidx());
    let mut body = Vec::with_capacity(data.len() + 512);
    for (field, value) in [("i", token), ("force", "true")] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads `data` and fetches what a timeline shows of it (the thumbnail, or the file when
/// there is none); the time from the first byte sent to the last byte read.
async fn upload_and_show(
    client: &reqwest::Client,
    origin: &str,
    token: &str,
    name: &str,
    data: &[u8],
) -> anyhow::Result<Duration> {
    let (content_type, body) = form(token, name, data);
    let started = Instant::now();
    let res = client
        .post(format!("{origin}/api/drive/files/create"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("upload failed: {} {}", res.status(), res.text().await?);
    }
    let file: serde_json::Value = res.json().await?;
    let shown = file["thumbnailUrl"]
        .as_str()
        .or(file["url"].as_str())
        .context("no URL")?
        .to_owned();
    let got = client.get(&shown).send().await?;
    if !got.status().is_success() {
        bail!("{shown} answered {}", got.status());
    }
    let bytes = got.bytes().await?;
    let took = started.elapsed();
    if bytes.is_empty() {
        bail!("{shown} is empty");
    }
    Ok(took)
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Room for every upload of the run.
    let mut server =
        start_server(&args.data_dir, &[("TSUDOI_DRIVE_CAPACITY_MB", "100000")]).await?;
    let (origin, database_url) = (server.origin.clone(), server.database_url.clone());
    let store = Store::connect(&database_url).await?;
    let token = "bench-token-uploader";
    store
        .create_local_user(
            &NewLocalUser {
                id: &ids::aidx(),
                username: "uploader",
                password_hash: "x",
                token,
                is_admin: false,
                created_at: ids::now_ms(),
            },
            None,
        )
        .await?;

    let photo = phone_photo((args.megabytes * 1_000_000.0) as usize)?;
    let (width, height) = image::ImageReader::new(Cursor::new(&photo))
        .with_guessed_format()?
        .into_dimensions()?;
    // The baseline's bytes: as many, as text (stored as they are, no picture work).
    let text: Vec<u8> = (0..photo.len()).map(|i| b'a' + (i % 26) as u8).collect();
    println!(
        "# upload-bench: {} uploads each of a {:.1} MB JPEG ({width}x{height}, EXIF turned and with GPS) and of text as large",
        args.uploads,
        photo.len() as f64 / 1e6
    );
    let client = reqwest::Client::new();
    // Warm-up: the first upload of each kind opens the file store and fills caches.
    upload_and_show(&client, &origin, token, "warm.jpg", &photo).await?;
    upload_and_show(&client, &origin, token, "warm.txt", &text).await?;
    let mut photos = Vec::with_capacity(args.uploads);
    let mut texts = Vec::with_capacity(args.uploads);
    // Interleaved, so a slow moment of the machine falls on both.
    for i in 0..args.uploads {
        photos.push(upload_and_show(&client, &origin, token, &format!("p{i}.jpg"), &photo).await?);
        texts.push(upload_and_show(&client, &origin, token, &format!("t{i}.txt"), &text).await?);
    }
    photos.sort();
    texts.sort();
    println!(
        "baseline, text as large to its served file: median {:.0} ms (min {:.0}, max {:.0})",
        ms(median(&texts)),
        ms(texts[0]),
        ms(*texts.last().unwrap_or(&texts[0]))
    );
    println!(
        "photo to its served thumbnail: median {:.0} ms (min {:.0}, max {:.0}); {:.1}x the baseline's median",
        ms(median(&photos)),
        ms(photos[0]),
        ms(*photos.last().unwrap_or(&photos[0])),
        median(&photos).as_secs_f64() / median(&texts).as_secs_f64().max(1e-9)
    );
    let _ = server.process.kill().await;
    Ok(())
}
