//! Turning a miner's base64 body into RGB pixels, refusing anything too big or malformed
//! before it costs work.
//!
//! Order of checks, cheapest first: the base64 length against the byte limit, the base64 itself,
//! the format by magic bytes (PNG or JPEG only), the header's dimensions against the requested
//! size (before a single pixel is decoded, so a decompression bomb costs a header read), for JPEG
//! a walk over the marker segments that bounds the number of scans (progressive JPEGs with
//! thousands of scans are the classic CPU bomb), and only then the decode itself, into a buffer
//! of exactly the expected size.
//!
//! Both decoders are pure Rust and run without SIMD (`zune-jpeg` is built without its `x86` and
//! `neon` features; PNG decoding is exact by construction), so the pixels are bit-identical in a
//! native build and in the wasm plugin.

use std::fmt;
use std::io::Cursor;

use base64::Engine as _;

/// An 8-bit RGB image, rows top to bottom, pixels interleaved `R, G, B`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rgb8 {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Rgb8 {
    /// An image from interleaved RGB bytes; `None` unless `data.len() == 3 · width · height` and
    /// both sides are positive.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Option<Rgb8> {
        let len = (width as usize).checked_mul(height as usize)?.checked_mul(3)?;
        (width > 0 && height > 0 && data.len() == len).then_some(Rgb8 { width, height, data })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The interleaved RGB bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The pixel at `(x, y)` as `[r, g, b]`. Panics outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = 3 * (y as usize * self.width as usize + x as usize);
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }
}

/// Why an image body was refused. Every refusal scores 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    /// More encoded bytes than the task allows.
    TooLarge {
        /// Encoded size in bytes (or an upper bound from the base64 length).
        bytes: usize,
        /// The task's limit.
        limit: usize,
    },
    /// Not standard, padded base64.
    BadBase64,
    /// Neither a PNG nor a JPEG signature.
    UnknownFormat,
    /// The header declares another size than the task asked for.
    WrongSize {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// A JPEG kind the plugin does not decode (lossless, arithmetic, hierarchical) or one with
    /// more scans than allowed.
    UnsupportedJpeg(&'static str),
    /// The decoder failed (corrupt or truncated data).
    Corrupt,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::TooLarge { bytes, limit } => write!(f, "image is {bytes} bytes, over the limit of {limit}"),
            Reject::BadBase64 => f.write_str("image is not standard padded base64"),
            Reject::UnknownFormat => f.write_str("image is neither PNG nor JPEG"),
            Reject::WrongSize { width, height } => write!(f, "image is {width}x{height}, not the requested size"),
            Reject::UnsupportedJpeg(why) => write!(f, "unsupported JPEG: {why}"),
            Reject::Corrupt => f.write_str("image data is corrupt"),
        }
    }
}

/// At most this many scans (SOS segments) in a JPEG. libjpeg's progressive mode writes 10 for a
/// colour image; the cost of decoding grows with the number of scans, so the bound keeps the
/// worst case of an image within a small multiple of a normal one.
pub const MAX_JPEG_SCANS: usize = 32;

/// The largest decoded size in bytes of a base64 string of `len` characters.
pub fn base64_decoded_len_bound(len: usize) -> usize {
    len / 4 * 3 + 3
}

/// The length of the padded base64 encoding of `bytes` bytes.
pub fn base64_encoded_len(bytes: usize) -> usize {
    bytes.div_ceil(3) * 4
}

/// Decodes a base64 PNG or JPEG of exactly `width`×`height` pixels into RGB: at most `max_bytes`
/// encoded bytes in any format, and at most `max_jpeg_bytes` for a JPEG (whose decoding costs far
/// more per byte than a PNG's). Alpha is composited over black; grey is expanded to RGB; 16-bit
/// samples keep their high byte.
pub fn decode_image(
    base64_image: &str,
    width: u32,
    height: u32,
    max_bytes: usize,
    max_jpeg_bytes: usize,
) -> Result<Rgb8, Reject> {
    if base64_image.len() > base64_encoded_len(max_bytes) {
        return Err(Reject::TooLarge { bytes: base64_decoded_len_bound(base64_image.len()), limit: max_bytes });
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(base64_image).map_err(|_| Reject::BadBase64)?;
    if bytes.len() > max_bytes {
        return Err(Reject::TooLarge { bytes: bytes.len(), limit: max_bytes });
    }
    if bytes.starts_with(JPEG_MAGIC) && bytes.len() > max_jpeg_bytes {
        return Err(Reject::TooLarge { bytes: bytes.len(), limit: max_jpeg_bytes });
    }
    decode_bytes(&bytes, width, height)
}

/// The dimensions declared in the header of a PNG or JPEG, without decoding any pixels.
pub fn header_size(bytes: &[u8]) -> Result<(u32, u32), Reject> {
    if bytes.starts_with(PNG_MAGIC) {
        let ihdr = bytes.get(12..24).filter(|h| &h[..4] == b"IHDR").ok_or(Reject::Corrupt)?;
        Ok((
            u32::from_be_bytes([ihdr[4], ihdr[5], ihdr[6], ihdr[7]]),
            u32::from_be_bytes([ihdr[8], ihdr[9], ihdr[10], ihdr[11]]),
        ))
    } else if bytes.starts_with(JPEG_MAGIC) {
        jpeg_dimensions(bytes).ok_or(Reject::Corrupt)
    } else {
        Err(Reject::UnknownFormat)
    }
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

/// Decodes PNG or JPEG `bytes` of exactly `width`×`height` pixels into RGB (no byte limit: see
/// [`decode_image`]).
pub fn decode_bytes(bytes: &[u8], width: u32, height: u32) -> Result<Rgb8, Reject> {
    // The declared size first, from the header alone: a bomb costs a few bytes of parsing.
    let (w, h) = header_size(bytes)?;
    if (w, h) != (width, height) {
        return Err(Reject::WrongSize { width: w, height: h });
    }
    if bytes.starts_with(PNG_MAGIC) {
        decode_png(bytes, width, height)
    } else if bytes.starts_with(JPEG_MAGIC) {
        decode_jpeg(bytes, width, height)
    } else {
        Err(Reject::UnknownFormat)
    }
}

fn decode_png(bytes: &[u8], width: u32, height: u32) -> Result<Rgb8, Reject> {
    // The largest buffer the decoder needs: RGBA at 16 bits per sample, plus row filter bytes and
    // slack for its line buffers. Anything asking for more is refused by the decoder itself.
    let budget = (width as usize * 8 + 1) * height as usize * 2 + 64 * 1024;
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: budget });
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let info = decoder.read_header_info().map_err(|_| Reject::Corrupt)?;
    if (info.width, info.height) != (width, height) {
        return Err(Reject::WrongSize { width: info.width, height: info.height });
    }
    let mut reader = decoder.read_info().map_err(|_| Reject::Corrupt)?;
    let size = reader.output_buffer_size().ok_or(Reject::Corrupt)?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(|_| Reject::Corrupt)?;
    if (frame.width, frame.height) != (width, height) || frame.bit_depth != png::BitDepth::Eight {
        return Err(Reject::Corrupt);
    }
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(Reject::Corrupt),
    };
    let pixels = width as usize * height as usize;
    let mut rgb = Vec::with_capacity(pixels * 3);
    for row in buf.chunks_exact(frame.line_size).take(height as usize) {
        for px in row[..width as usize * channels].chunks_exact(channels) {
            let (r, g, b, a) = match *px {
                [y] => (y, y, y, 255),
                [y, a] => (y, y, y, a),
                [r, g, b] => (r, g, b, 255),
                [r, g, b, a] => (r, g, b, a),
                _ => unreachable!("chunks_exact yields `channels` samples"),
            };
            rgb.extend([over_black(r, a), over_black(g, a), over_black(b, a)]);
        }
    }
    Rgb8::new(width, height, rgb).ok_or(Reject::Corrupt)
}

/// `c · a / 255`, rounded: the sample composited over black.
fn over_black(c: u8, a: u8) -> u8 {
    ((c as u32 * a as u32 + 127) / 255) as u8
}

fn decode_jpeg(bytes: &[u8], width: u32, height: u32) -> Result<Rgb8, Reject> {
    check_jpeg_structure(bytes)?;
    let options = zune_core::options::DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(width as usize)
        .set_max_height(height as usize)
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(bytes), options);
    match decoder.decode_headers() {
        Ok(()) => {}
        // The size limits above make the decoder refuse large images in the header; report them
        // as a wrong size rather than as corrupt data.
        Err(_) => {
            return match jpeg_dimensions(bytes) {
                Some((w, h)) if (w, h) != (width, height) => Err(Reject::WrongSize { width: w, height: h }),
                _ => Err(Reject::Corrupt),
            };
        }
    }
    let (w, h) = decoder.dimensions().ok_or(Reject::Corrupt)?;
    if (w as u32, h as u32) != (width, height) {
        return Err(Reject::WrongSize { width: w as u32, height: h as u32 });
    }
    let size = decoder.output_buffer_size().ok_or(Reject::Corrupt)?;
    if size != width as usize * height as usize * 3 {
        return Err(Reject::Corrupt);
    }
    let mut rgb = vec![0; size];
    decoder.decode_into(&mut rgb).map_err(|_| Reject::Corrupt)?;
    Rgb8::new(width, height, rgb).ok_or(Reject::Corrupt)
}

/// The dimensions in the first SOF segment, if the marker walk finds one.
fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut found = None;
    walk_jpeg(bytes, |marker, payload| {
        if found.is_none() && is_sof(marker) && payload.len() >= 5 {
            let h = u16::from_be_bytes([payload[1], payload[2]]) as u32;
            let w = u16::from_be_bytes([payload[3], payload[4]]) as u32;
            found = Some((w, h));
        }
        Ok(())
    })
    .ok()?;
    found
}

fn is_sof(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Walks the marker segments of a JPEG: only baseline, extended and progressive Huffman frames,
/// at most [`MAX_JPEG_SCANS`] scans.
fn check_jpeg_structure(bytes: &[u8]) -> Result<(), Reject> {
    let mut scans = 0usize;
    walk_jpeg(bytes, |marker, _| {
        match marker {
            0xC0..=0xC2 => {}
            0xC3 => return Err(Reject::UnsupportedJpeg("lossless")),
            0xC5..=0xC7 | 0xCD..=0xCF => return Err(Reject::UnsupportedJpeg("hierarchical")),
            0xC9..=0xCB => return Err(Reject::UnsupportedJpeg("arithmetic coding")),
            0xDA => {
                scans += 1;
                if scans > MAX_JPEG_SCANS {
                    return Err(Reject::UnsupportedJpeg("too many scans"));
                }
            }
            _ => {}
        }
        Ok(())
    })
}

/// Calls `visit(marker, payload)` for every segment after SOI up to EOI (or the end of the data),
/// skipping entropy-coded data after each SOS.
fn walk_jpeg(bytes: &[u8], mut visit: impl FnMut(u8, &[u8]) -> Result<(), Reject>) -> Result<(), Reject> {
    let mut i = 2; // after SOI
    while i + 1 < bytes.len() {
        if bytes[i] != 0xFF {
            return Err(Reject::Corrupt);
        }
        let marker = bytes[i + 1];
        i += 2;
        match marker {
            0xFF => i -= 1, // fill byte
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let len = bytes.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize);
                let len = len.filter(|&l| l >= 2).ok_or(Reject::Corrupt)?;
                let payload = bytes.get(i + 2..i + len).ok_or(Reject::Corrupt)?;
                visit(marker, payload)?;
                i += len;
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker that is neither a stuffed zero
                    // nor a restart marker.
                    while i + 1 < bytes.len() && (bytes[i] != 0xFF || matches!(bytes[i + 1], 0x00 | 0xD0..=0xD7)) {
                        i += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_walk_counts_scans_and_refuses_odd_frames() {
        let seg = |m: u8, payload: &[u8]| {
            let mut v = vec![0xFF, m];
            v.extend(((payload.len() + 2) as u16).to_be_bytes());
            v.extend(payload);
            v
        };
        let sof = |m: u8| seg(m, &[8, 0, 16, 0, 32, 1, 1, 0x11, 0]);
        let mut ok = vec![0xFF, 0xD8];
        ok.extend(sof(0xC2));
        for _ in 0..MAX_JPEG_SCANS {
            ok.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
            ok.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        }
        let mut too_many = ok.clone();
        ok.extend([0xFF, 0xD9]);
        assert_eq!(check_jpeg_structure(&ok), Ok(()));
        assert_eq!(jpeg_dimensions(&ok), Some((32, 16)));
        too_many.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        assert_eq!(check_jpeg_structure(&too_many), Err(Reject::UnsupportedJpeg("too many scans")));

        for (marker, why) in [(0xC3, "lossless"), (0xC9, "arithmetic coding"), (0xC5, "hierarchical")] {
            let mut v = vec![0xFF, 0xD8];
            v.extend(sof(marker));
            assert_eq!(check_jpeg_structure(&v), Err(Reject::UnsupportedJpeg(why)));
        }
        let truncated = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x40, 1, 2];
        assert_eq!(check_jpeg_structure(&truncated), Err(Reject::Corrupt));
    }

    #[test]
    fn limits_are_checked_before_decoding() {
        assert_eq!(base64_encoded_len(3), 4);
        assert_eq!(base64_encoded_len(4), 8);
        let long = "A".repeat(base64_encoded_len(30) + 4);
        assert!(matches!(decode_image(&long, 8, 8, 30, 30), Err(Reject::TooLarge { .. })));
        assert_eq!(decode_image("not base64!", 8, 8, 30, 30), Err(Reject::BadBase64));
        assert_eq!(decode_image("R0lGODlh", 8, 8, 30, 30), Err(Reject::UnknownFormat));
        // A JPEG signature over the JPEG limit is refused before any parsing.
        let jpeg_b64 = "/9j/".to_owned() + &"A".repeat(36);
        assert_eq!(decode_image(&jpeg_b64, 8, 8, 100, 20), Err(Reject::TooLarge { bytes: 30, limit: 20 }));
    }

    #[test]
    fn alpha_composites_over_black() {
        assert_eq!(over_black(200, 255), 200);
        assert_eq!(over_black(200, 0), 0);
        assert_eq!(over_black(255, 128), 128);
    }
}
