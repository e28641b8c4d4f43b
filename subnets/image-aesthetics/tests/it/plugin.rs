//! The plugin path: tasks, manifest, determinism, decoder coverage, the bundled sample batch.

use image_aesthetics::decode::{self, Rgb8};
use image_aesthetics::{ImageAesthetics, ImagePrivate, ImageTask};
use proptest::prelude::*;
use sdk_guest::testing;

use crate::harness::{score_alone, score_together};
use crate::support::*;

#[test]
fn tasks_depend_only_on_the_seed_and_cover_the_prompts() {
    let a = testing::make_task::<ImageAesthetics>(&testing::context(7)).unwrap();
    let b = testing::make_task::<ImageAesthetics>(&testing::context(7)).unwrap();
    assert_eq!((&a.public, &a.private), (&b.public, &b.private));
    let mut seen = std::collections::BTreeSet::new();
    let mut sizes = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let t = testing::decode_task::<ImageAesthetics>(
            &testing::make_task::<ImageAesthetics>(&testing::context(seed)).unwrap(),
        )
        .unwrap();
        let prompts = image_aesthetics::prompts();
        assert_eq!(t.public.prompt, prompts[t.private.prompt_index as usize]);
        assert_eq!(t.private.attributes, image_aesthetics::prompt::Attributes::of_prompt(&t.public.prompt));
        seen.insert(t.private.prompt_index);
        sizes.insert((t.public.width, t.public.height));
    }
    assert!(seen.len() > 50, "{}", seen.len());
    assert_eq!(sizes.len(), 3);
}

#[test]
fn manifest_has_schemas_and_defaults() {
    let m = testing::manifest::<ImageAesthetics>();
    assert_eq!(m.name, "image-aesthetics");
    for schema in [&m.task_schema, &m.private_schema, &m.response_schema] {
        let v: serde_json::Value = serde_json::from_str(schema).unwrap();
        assert!(v.is_object(), "{schema}");
    }
    assert!(m.response_schema.contains("image"));
    assert!(m.truth_schema.is_none());
}

#[test]
fn scores_are_byte_identical_across_runs() {
    let img = photo("sklearn_china.jpg", 256, 256);
    let bodies: Vec<Option<String>> = vec![
        Some(b64(&jpeg(&img, 90))),
        Some(b64(&png(&photo("skimage_chelsea.png", 256, 256)))),
        Some(b64(&jpeg_progressive(&photo("sklearn_flower.jpg", 256, 256), 80))),
        Some(b64(&png(&noise(&photo("skimage_camera.png", 256, 256), 6.0, 1)))),
        None,
    ];
    let first: Vec<u64> =
        score_together("A dark forest with a red lantern", 256, 256, &bodies).iter().map(|s| s.to_bits()).collect();
    for _ in 0..3 {
        let again: Vec<u64> =
            score_together("A dark forest with a red lantern", 256, 256, &bodies).iter().map(|s| s.to_bits()).collect();
        assert_eq!(first, again);
    }
}

#[test]
fn all_png_and_jpeg_variants_decode_to_the_same_pixels() {
    let img = photo("skimage_chelsea.png", 64, 48);
    let rgb = decode::decode_bytes(&png(&img), 64, 48).unwrap();
    assert_eq!(rgb, img);
    // Grey, grey + alpha, RGBA (opaque), 16-bit and palette PNGs.
    let grey = greyscale(&img);
    let g: Vec<u8> = grey.data().chunks_exact(3).map(|p| p[0]).collect();
    let encode = |data: &[u8], color: png::ColorType, depth: png::BitDepth, palette: Option<Vec<u8>>| {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, 64, 48);
        enc.set_color(color);
        enc.set_depth(depth);
        if let Some(p) = palette {
            enc.set_palette(p);
        }
        enc.write_header().unwrap().write_image_data(data).unwrap();
        out
    };
    let grey_png = encode(&g, png::ColorType::Grayscale, png::BitDepth::Eight, None);
    assert_eq!(decode::decode_bytes(&grey_png, 64, 48).unwrap(), grey);
    let ga: Vec<u8> = g.iter().flat_map(|&v| [v, 255]).collect();
    assert_eq!(
        decode::decode_bytes(&encode(&ga, png::ColorType::GrayscaleAlpha, png::BitDepth::Eight, None), 64, 48).unwrap(),
        grey
    );
    let rgba: Vec<u8> = img.data().chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    assert_eq!(
        decode::decode_bytes(&encode(&rgba, png::ColorType::Rgba, png::BitDepth::Eight, None), 64, 48).unwrap(),
        img
    );
    let rgb16: Vec<u8> = img.data().iter().flat_map(|&v| [v, 0x7f]).collect();
    assert_eq!(
        decode::decode_bytes(&encode(&rgb16, png::ColorType::Rgb, png::BitDepth::Sixteen, None), 64, 48).unwrap(),
        img
    );
    let palette: Vec<u8> = (0..=255u8).flat_map(|v| [v, v, v]).collect();
    assert_eq!(
        decode::decode_bytes(&encode(&g, png::ColorType::Indexed, png::BitDepth::Eight, Some(palette)), 64, 48)
            .unwrap(),
        grey
    );
    // Transparent pixels are composited over black.
    let clear: Vec<u8> = img.data().chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 0]).collect();
    let black =
        decode::decode_bytes(&encode(&clear, png::ColorType::Rgba, png::BitDepth::Eight, None), 64, 48).unwrap();
    assert!(black.data().iter().all(|&v| v == 0));

    // JPEG: baseline and progressive decode close to the original.
    for bytes in [jpeg(&img, 95), jpeg_progressive(&img, 95)] {
        let out = decode::decode_bytes(&bytes, 64, 48).unwrap();
        let err: u64 = out.data().iter().zip(img.data()).map(|(a, b)| (*a as i64 - *b as i64).unsigned_abs()).sum();
        assert!(err / (img.data().len() as u64) < 6, "mean abs error {}", err / img.data().len() as u64);
    }
}

#[test]
fn header_sizes_are_read_without_decoding() {
    let img = photo("skimage_rocket.jpg", 96, 80);
    assert_eq!(decode::header_size(&png(&img)), Ok((96, 80)));
    assert_eq!(decode::header_size(&jpeg(&img, 80)), Ok((96, 80)));
    // A PNG header claiming a huge image is refused at the header: no buffer is allocated.
    let mut bomb = png(&img);
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    assert_eq!(decode::decode_bytes(&bomb, 256, 256), Err(decode::Reject::WrongSize { width: 60_000, height: 60_000 }));
    let mut jbomb = jpeg(&img, 80);
    let sof = jbomb.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jbomb[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xF0, 0xFF, 0xF0]);
    assert_eq!(
        decode::decode_bytes(&jbomb, 256, 256),
        Err(decode::Reject::WrongSize { width: 0xFFF0, height: 0xFFF0 })
    );
}

#[test]
fn a_task_beyond_the_plugins_limits_is_an_error() {
    let mut t = crate::harness::task("x", 256, 256);
    t.0.width = 4096;
    let b = crate::harness::batch(&t, &[None]);
    assert!(testing::score_batch::<ImageAesthetics>(&b).is_err());
}

#[test]
fn the_bundled_sample_batch_scores_as_designed() {
    let batch = testing::Batch::from_json(include_str!("../../samples/batch.json")).unwrap();
    let scores = testing::score_batch::<ImageAesthetics>(&batch).unwrap();
    let s = &scores.values;
    assert_eq!(s.len(), batch.responses.len());
    assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
    let by_hotkey = |k: &str| s[batch.responses.iter().position(|r| r.hotkey.starts_with(k)).unwrap()];
    let good = by_hotkey("good");
    let degraded = by_hotkey("degraded-blur").max(by_hotkey("degraded-noise")).max(by_hotkey("degraded-contrast"));
    assert!(good > 0.6 && degraded < good, "{s:?}");
    for zero in ["copy-a", "copy-b", "wrong-size", "undecodable", "timeout", "transport", "invalid"] {
        assert_eq!(by_hotkey(zero), 0.0, "{zero}: {s:?}");
    }
    assert!(by_hotkey("random") < 0.02, "{s:?}");
    assert!(!scores.diagnostics.is_empty());
}

/// The bundled sample is what `sample_batch_json` makes; with `UPDATE_SAMPLES=1` the test
/// rewrites it instead (after a change to the scoring or the sample).
#[test]
fn the_bundled_sample_batch_is_reproducible() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/batch.json");
    let json = sample_batch_json();
    if std::env::var_os("UPDATE_SAMPLES").is_some() {
        std::fs::write(path, &json).unwrap();
    }
    assert_eq!(json, std::fs::read_to_string(path).unwrap(), "rerun with UPDATE_SAMPLES=1 to rewrite {path}");
}

fn sample_batch_json() -> String {
    let prompts = image_aesthetics::prompts();
    let index = prompts.iter().position(|p| p.contains("tabby cat")).unwrap();
    let public = ImageTask {
        prompt: prompts[index].to_owned(),
        width: 256,
        height: 256,
        max_bytes: image_aesthetics::MAX_IMAGE_BYTES,
        max_jpeg_bytes: image_aesthetics::MAX_JPEG_BYTES,
        formats: vec![image_aesthetics::ImageFormat::Png, image_aesthetics::ImageFormat::Jpeg],
    };
    let private = ImagePrivate {
        prompt_index: index as u32,
        attributes: image_aesthetics::prompt::Attributes::of_prompt(prompts[index]),
    };
    let p = |n: &str| photo(n, 256, 256);
    let copied = jpeg(&p("sklearn_flower.jpg"), 85);
    let responses: Vec<(&str, &str, Option<String>, u32)> = vec![
        ("good-cat", "ok", Some(b64(&jpeg(&p("skimage_chelsea.png"), 90))), 3100),
        ("good-harbour", "ok", Some(b64(&jpeg(&p("sklearn_china.jpg"), 88))), 4200),
        ("good-portrait", "ok", Some(b64(&jpeg(&p("matplotlib_grace_hopper.jpg"), 88))), 2900),
        ("degraded-blur", "ok", Some(b64(&jpeg(&blur(&p("skimage_rocket.jpg"), 1), 88))), 5000),
        ("degraded-noise", "ok", Some(b64(&jpeg(&noise(&p("skimage_camera.png"), 7.0, 3), 88))), 3900),
        ("degraded-contrast", "ok", Some(b64(&jpeg(&low_contrast(&p("skimage_coins.png"), 1, 3), 88))), 3600),
        ("copy-a", "ok", Some(b64(&copied)), 2500),
        ("copy-b", "ok", Some(b64(&copied)), 2600),
        ("wrong-size", "ok", Some(b64(&jpeg(&photo("skimage_chelsea.png", 240, 240), 85))), 3000),
        ("undecodable", "ok", Some(b64(b"\x89PNG\r\n\x1a\nthis is not really a png")), 800),
        ("random", "ok", Some(b64(&jpeg(&random_blocks(256, 256, 8, 11), 85))), 400),
        ("invalid", "invalid", None, 1200),
        ("timeout", "timeout", None, 12000),
        ("transport", "transport_error", None, 5),
    ];
    let mut out = String::new();
    out.push_str("{\n  \"task\": {\n");
    out.push_str(&format!("    \"public\": {},\n", serde_json::to_string(&public).unwrap()));
    out.push_str(&format!("    \"private\": {},\n", serde_json::to_string(&private).unwrap()));
    out.push_str("    \"settles_after_ms\": null\n  },\n  \"responses\": [\n");
    for (i, (hotkey, outcome, body, latency)) in responses.iter().enumerate() {
        let body = body
            .as_ref()
            .map_or("null".to_owned(), |b| serde_json::to_string(&serde_json::json!({ "image": b })).unwrap());
        let sep = if i + 1 < responses.len() { "," } else { "" };
        out.push_str(&format!(
            "    {{ \"uid\": {i}, \"hotkey\": \"{hotkey}\", \"outcome\": \"{outcome}\", \"latency_ms\": {latency}, \"body\": {body} }}{sep}\n"
        ));
    }
    out.push_str("  ]\n}\n");
    out
}

fn arbitrary_image() -> impl Strategy<Value = Rgb8> {
    (1u32..40, 1u32..40, any::<u64>()).prop_map(|(w, h, seed)| {
        let mut rng = Lcg::new(seed);
        Rgb8::new(w, h, (0..w * h * 3).map(|_| (rng.next() >> 24) as u8).collect()).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_score_is_finite_and_in_range(bodies in proptest::collection::vec(proptest::option::of(".{0,64}"), 0..6)) {
        let scores = score_together("A red fox in a snowy forest", 32, 32, &bodies);
        prop_assert_eq!(scores.len(), bodies.len());
        prop_assert!(scores.iter().all(|s| s.is_finite() && (0.0..=1.0).contains(s)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), prefix in 0usize..3) {
        let mut body = [b"\x89PNG\r\n\x1a\n".as_slice(), b"\xFF\xD8\xFF".as_slice(), b"".as_slice()][prefix].to_vec();
        body.extend(bytes);
        let s = score_alone("A dark night sky", 16, 16, &b64(&body));
        prop_assert!(s.is_finite() && (0.0..=1.0).contains(&s));
    }

    #[test]
    fn arbitrary_images_score_in_range(img in arbitrary_image(), prompt_index in 0usize..60) {
        let prompts = image_aesthetics::prompts();
        let prompt = prompts[prompt_index % prompts.len()];
        let s = score_alone(prompt, img.width(), img.height(), &b64(&png(&img)));
        prop_assert!(s.is_finite() && (0.0..=1.0).contains(&s));
        let a = image_aesthetics::assess(&img, &image_aesthetics::prompt::Attributes::of_prompt(prompt));
        prop_assert!(a.score.is_finite() && (0.0..=1.0).contains(&a.score));
    }
}

#[test]
fn every_test_image_has_a_licence_row() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let manifest = std::fs::read_to_string(format!("{dir}/manifest.tsv")).unwrap();
    let rows: Vec<&str> = manifest.lines().skip(1).filter_map(|l| l.split('\t').next()).collect();
    let mut images: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".png") || n.ends_with(".jpg"))
        .collect();
    images.sort();
    assert!(!images.is_empty());
    for image in &images {
        assert!(rows.contains(&image.as_str()), "{image} has no licence row");
        let row = manifest.lines().find(|l| l.starts_with(&format!("{image}\t"))).unwrap();
        assert!(row.split('\t').nth(7).is_some_and(|licence| !licence.is_empty()), "{image}: empty licence");
    }
    for name in PHOTOS {
        assert!(images.iter().any(|i| i == name), "{name} is used but not bundled");
    }
}
