//! Tests of the image-aesthetics miner template: the renderer (`render`), the HTTP backend
//! against a real server on 127.0.0.1 (`http`), and the configuration.

mod http;
mod render;

use base64::Engine as _;
use miner_image_aesthetics::{Config, ImageFormat, ImageTask};

/// The task the plugin would send, with its limits (384 KiB, 96 KiB for JPEG).
pub(crate) fn task(prompt: &str, width: u32, height: u32) -> ImageTask {
    ImageTask {
        prompt: prompt.to_owned(),
        width,
        height,
        max_bytes: 384 * 1024,
        max_jpeg_bytes: 96 * 1024,
        formats: vec![ImageFormat::Png, ImageFormat::Jpeg],
    }
}

/// A decoded 8-bit RGB picture.
pub(crate) struct Decoded {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) rgb: Vec<u8>,
}

/// Decodes a base64 PNG answer (8-bit RGB, as the renderer writes it).
pub(crate) fn decode(image: &str) -> Decoded {
    let bytes = base64::engine::general_purpose::STANDARD.decode(image).expect("standard base64");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut rgb = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut rgb).expect("a PNG frame");
    assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgb, png::BitDepth::Eight));
    rgb.truncate(info.buffer_size());
    Decoded { width: info.width, height: info.height, rgb }
}

#[test]
fn the_config_selects_a_backend_and_names_bad_fields() {
    assert_eq!(
        Config::from_json(r#"{"backend": "renderer", "seed": 7}"#).expect("valid"),
        Config::Renderer { seed: Some(7) }
    );
    assert_eq!(
        Config::from_json(r#"{"backend": "http", "url": "http://127.0.0.1:7860/generate"}"#).expect("valid"),
        Config::Http { url: "http://127.0.0.1:7860/generate".to_owned(), timeout_ms: 10_000 }
    );
    let error = |text: &str| Config::from_json(text).unwrap_err().to_string();
    assert!(
        error(r#"{"backend": "http", "url": "ftp://x/"}"#)
            .starts_with("url: \"ftp://x/\" is not an http:// or https:// URL")
    );
    assert_eq!(
        error(r#"{"backend": "http", "url": "http://x/", "timeout_ms": 0}"#),
        "timeout_ms: 0 is outside 1..=60000"
    );
    assert!(error(r#"{"backend": "renderer", "colour": 1}"#).contains("unknown field `colour`"));
    assert!(error(r#"{"backend": "dalle"}"#).contains("unknown variant `dalle`"));
    assert!(error(r#"{"backend": "renderer", "seed": "x"}"#).contains("invalid type"));
}
