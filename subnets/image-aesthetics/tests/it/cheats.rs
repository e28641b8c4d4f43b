//! The cheap attacks: wrong or oversized answers, garbage, copies, random output.

use image_aesthetics::{ImageAesthetics, MAX_IMAGE_BYTES};
use sdk_guest::Outcome;
use sdk_guest::testing;

use crate::harness::{batch, score_alone, score_together, task};
use crate::support::*;

const PROMPT: &str = "A portrait of a tabby cat sitting on a windowsill";

fn good() -> image_aesthetics::decode::Rgb8 {
    photo("skimage_chelsea.png", 256, 256)
}

#[test]
fn wrong_sizes_score_zero() {
    for (w, h) in [(255, 256), (256, 255), (512, 512), (128, 128), (257, 257)] {
        let img = photo("skimage_chelsea.png", w, h);
        for body in [b64(&png(&img)), b64(&jpeg(&img, 90))] {
            assert_eq!(score_alone(PROMPT, 256, 256, &body), 0.0, "{w}x{h}");
        }
    }
    // The right image at the right size does score.
    assert!(score_alone(PROMPT, 256, 256, &b64(&png(&good()))) > 0.5);
}

#[test]
fn undecodable_bodies_score_zero() {
    let png_bytes = png(&good());
    let jpeg_bytes = jpeg(&good(), 90);
    let mut flipped = jpeg_bytes.clone();
    let mid = flipped.len() / 2;
    for b in &mut flipped[mid..mid + 64] {
        *b ^= 0x5A;
    }
    let bodies = [
        String::new(),
        "!!!! not base64 !!!!".to_owned(),
        b64(b"GIF89a and then some"),
        b64(b"just some text, as if the prompt were echoed back"),
        b64(&png_bytes[..png_bytes.len() / 2]),
        b64(&jpeg_bytes[..jpeg_bytes.len() / 2]),
        b64(&png_bytes[..40]),
        b64(&flipped),
        b64(&png_bytes).trim_end_matches('=').to_owned() + "A",
        format!("data:image/png;base64,{}", b64(&png_bytes)),
    ];
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(score_alone(PROMPT, 256, 256, body), 0.0, "body {i}");
    }
}

#[test]
fn over_the_byte_limit_scores_zero() {
    // A valid PNG padded with an ancillary chunk beyond the limit.
    let png_bytes = png(&good());
    let pad = MAX_IMAGE_BYTES as usize + 1 - png_bytes.len();
    let mut padded = png_bytes[..33].to_vec(); // signature + IHDR
    padded.extend((pad as u32).to_be_bytes());
    padded.extend(b"tEXt");
    padded.extend(vec![b'a'; pad]);
    padded.extend(0u32.to_be_bytes()); // CRC, never checked: the size is refused first
    padded.extend(&png_bytes[33..]);
    assert!(padded.len() > MAX_IMAGE_BYTES as usize);
    assert_eq!(score_alone(PROMPT, 256, 256, &b64(&padded)), 0.0);

    // The SDK marks it invalid before scoring, through `check_response`.
    let t = task(PROMPT, 256, 256);
    let mut b = batch(&t, &[Some(b64(&padded))]);
    b.responses[0].outcome = Outcome::Ok;
    let scores = testing::score_batch::<ImageAesthetics>(&b).unwrap();
    assert_eq!(scores.values, [0.0]);

    // A task with a lower limit refuses an image that fits the default one.
    let mut small = task(PROMPT, 256, 256);
    small.0.max_bytes = 1000;
    let b = batch(&small, &[Some(b64(&png_bytes))]);
    assert_eq!(testing::score_batch::<ImageAesthetics>(&b).unwrap().values, [0.0]);

    // A JPEG over the JPEG limit scores 0 even though it is under the general one.
    let noisy = noise(&good(), 30.0, 1);
    let big_jpeg = jpeg(&noisy, 100);
    assert!(big_jpeg.len() > image_aesthetics::MAX_JPEG_BYTES as usize && big_jpeg.len() < MAX_IMAGE_BYTES as usize);
    assert!(matches!(
        image_aesthetics::decode::decode_image(
            &b64(&big_jpeg),
            256,
            256,
            MAX_IMAGE_BYTES as usize,
            image_aesthetics::MAX_JPEG_BYTES as usize
        ),
        Err(image_aesthetics::decode::Reject::TooLarge { .. })
    ));
    assert_eq!(score_alone(PROMPT, 256, 256, &b64(&big_jpeg)), 0.0);
}

#[test]
fn identical_copies_get_nothing_and_others_are_untouched() {
    let original = good();
    let other = photo("sklearn_flower.jpg", 256, 256);
    let body = b64(&png(&original));
    let other_body = b64(&jpeg(&other, 90));
    let alone = score_alone(PROMPT, 256, 256, &other_body);
    let scores = score_together(
        PROMPT,
        256,
        256,
        &[
            Some(body.clone()),
            Some(body.clone()),                       // byte-identical copy
            Some(b64(&jpeg(&original, 85))),          // re-encoded copy
            Some(b64(&png(&mirror(&original)))),      // mirrored copy
            Some(b64(&png(&crop_1px(&original)))),    // cropped by a pixel and resized back
            Some(b64(&png(&lift(&original, 1, 10)))), // slightly brightened copy
            Some(other_body),
            None,
        ],
    );
    assert_eq!(&scores[..6], [0.0; 6], "{scores:?}");
    assert_eq!(scores[6], alone, "an unrelated image keeps its score");
    assert_eq!(scores[7], 0.0);
}

#[test]
fn inverted_copies_are_copies() {
    let original = good();
    let inverted =
        image_aesthetics::decode::Rgb8::new(256, 256, original.data().iter().map(|v| 255 - v).collect()).unwrap();
    let scores = score_together(PROMPT, 256, 256, &[Some(b64(&png(&original))), Some(b64(&png(&inverted)))]);
    assert_eq!(scores, [0.0, 0.0]);
}

#[test]
fn near_duplicates_are_penalised_in_proportion() {
    let original = good();
    let alone = score_alone(PROMPT, 256, 256, &b64(&png(&original)));
    let other = photo("sklearn_china.jpg", 256, 256);
    // Progressively more of the image replaced by an unrelated photo.
    let mut last = 0.0;
    let mut penalised_but_paid = false;
    for x_end in [24, 64, 96, 128, 160] {
        let spliced = splice(&original, &other, x_end);
        let scores = score_together(PROMPT, 256, 256, &[Some(b64(&png(&original))), Some(b64(&png(&spliced)))]);
        assert!(scores[0] <= alone, "{x_end}: {scores:?}");
        assert!(scores[0] >= last, "penalty must shrink as the images differ more: {x_end}: {scores:?}");
        last = scores[0];
        penalised_but_paid |= scores[0] > 0.0 && scores[0] < alone;
    }
    assert!(penalised_but_paid, "some splice should be a near (not exact) duplicate");
    assert_eq!(last, alone, "a mostly different image is not a duplicate");
}

#[test]
fn random_output_scores_near_zero() {
    let cases = [
        ("uniform noise", random_image(256, 256, 1)),
        ("mosaic 2px", random_blocks(256, 256, 2, 2)),
        ("mosaic 4px", random_blocks(256, 256, 4, 3)),
        ("mosaic 8px", random_blocks(256, 256, 8, 4)),
        ("mosaic 32px", random_blocks(256, 256, 32, 5)),
        ("smooth random field", blur(&random_blocks(256, 256, 16, 6), 3)),
        ("grey ramp", ramp_image(256, 256)),
        ("solid black", solid(256, 256, [0, 0, 0])),
        ("solid colour", solid(256, 256, [200, 40, 40])),
        ("upscaled thumbnail", {
            let small = photo("skimage_chelsea.png", 32, 32);
            resample_up(&small, 8)
        }),
    ];
    for (what, img) in cases {
        for body in [b64(&png(&img)), b64(&jpeg(&img, 90))] {
            let s = score_alone(PROMPT, 256, 256, &body);
            assert!(s < 0.05, "{what}: {s}");
        }
    }
}

/// Nearest-neighbour upscaling by `k`.
fn resample_up(img: &image_aesthetics::decode::Rgb8, k: u32) -> image_aesthetics::decode::Rgb8 {
    let (w, h) = (img.width() * k, img.height() * k);
    let data = (0..h).flat_map(|y| (0..w).flat_map(move |x| img.pixel(x / k, y / k))).collect();
    image_aesthetics::decode::Rgb8::new(w, h, data).unwrap()
}

#[test]
fn failed_queries_score_zero() {
    let t = task(PROMPT, 256, 256);
    let mut b = batch(&t, &[Some(b64(&png(&good()))), None, None, None]);
    b.responses[2].outcome = Outcome::TransportError;
    b.responses[3].outcome = Outcome::Ok;
    b.responses[3].body = Some(serde_json::json!({ "picture": "abc" }));
    let scores = testing::score_batch::<ImageAesthetics>(&b).unwrap().values;
    assert!(scores[0] > 0.5);
    assert_eq!(&scores[1..], [0.0, 0.0, 0.0]);
}
