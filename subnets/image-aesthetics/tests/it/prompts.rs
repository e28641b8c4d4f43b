//! Agreement with the prompt's attributes: brightness, colours, black and white, vividness.

use crate::harness::score_alone;
use crate::support::*;

fn score(prompt: &str, img: &image_aesthetics::decode::Rgb8) -> f64 {
    score_alone(prompt, img.width(), img.height(), &b64(&png(img)))
}

#[test]
fn dark_prompts_prefer_dark_images_and_bright_prompts_bright_ones() {
    for name in ["sklearn_china.jpg", "skimage_camera.png", "skimage_chelsea.png"] {
        let img = photo(name, 256, 256);
        let dark = exposure(&img, 2, 5);
        let bright = lift(&img, 2, 5);
        let at_night = "A city skyline at midnight with glowing windows";
        let sunny = "A bright sunny beach with turquoise water and white sand";
        assert!(score(at_night, &dark) > score(at_night, &bright), "{name}: dark prompt");
        assert!(score(sunny, &bright) > score(sunny, &dark), "{name}: bright prompt");
        // Without the attribute, the darkened image has no advantage.
        let neutral = "A photograph of something interesting";
        assert!(score(neutral, &dark) <= score(neutral, &img), "{name}: neutral prompt");
    }
}

#[test]
fn named_colours_must_be_present() {
    let cases: [(&str, [u8; 3]); 4] = [
        ("A red vintage car parked in a street", [220, 20, 30]),
        ("An old stone bridge over a calm green river", [30, 170, 50]),
        ("A sailing boat on a blue sea", [20, 60, 210]),
        ("A field of yellow sunflowers", [235, 215, 30]),
    ];
    for name in ["sklearn_china.jpg", "skimage_chelsea.png", "matplotlib_grace_hopper.jpg"] {
        let img = photo(name, 256, 256);
        for (prompt, colour) in cases {
            let matching = tint(&img, colour, 2, 5);
            for (other_prompt, other) in cases {
                if other_prompt == prompt {
                    continue;
                }
                let wrong = tint(&img, other, 2, 5);
                let (right, off) = (score(prompt, &matching), score(prompt, &wrong));
                assert!(right > off + 0.1, "{name}: `{prompt}`: matching tint {right} vs {other:?} {off}");
            }
        }
    }
}

#[test]
fn black_and_white_and_vivid() {
    for name in ["sklearn_flower.jpg", "skimage_chelsea.png", "sklearn_china.jpg"] {
        let colour = photo(name, 256, 256);
        let grey = greyscale(&colour);
        let mono = "Black and white portrait of an old fisherman";
        let vivid = "A vivid, colourful fruit market";
        assert!(score(mono, &grey) > score(mono, &colour), "{name}: monochrome prompt");
        assert!(score(vivid, &colour) > score(vivid, &grey), "{name}: vivid prompt");
    }
}

#[test]
fn warm_and_cool_light() {
    let img = photo("skimage_camera.png", 256, 256);
    let warm = tint(&img, [255, 150, 60], 1, 4);
    let cool = tint(&img, [60, 150, 255], 1, 4);
    let golden = "A golden wheat field at sunset";
    let icy = "An icy mountain lake under a cool morning sky";
    assert!(score(golden, &warm) > score(golden, &cool));
    assert!(score(icy, &cool) > score(icy, &warm));
}

#[test]
fn every_bundled_prompt_parses_and_most_have_attributes() {
    let prompts = image_aesthetics::prompts();
    assert!(prompts.len() >= 50, "{}", prompts.len());
    let with = prompts.iter().filter(|p| !image_aesthetics::prompt::Attributes::of_prompt(p).is_empty()).count();
    assert!(with * 2 >= prompts.len(), "{with} of {} prompts have checkable attributes", prompts.len());
    let mut sorted = prompts.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), prompts.len(), "prompts repeat");
}
