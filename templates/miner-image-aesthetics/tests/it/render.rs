//! The renderer: size, byte limits, determinism, light and colour.

use miner_image_aesthetics::render::{Light, Scene, Subject};
use miner_image_aesthetics::{ImageTask, Renderer};

use crate::{Decoded, decode, task};

const PROMPTS: &[&str] = &[
    "A dark forest at night lit by a single red lantern",
    "A bright sunny beach with turquoise water",
    "A lighthouse on a cliff at sunset",
    "A black and white photograph of a mountain",
    "A vivid purple and orange nebula",
    "",
];

fn render(prompt: &str, seed: u64) -> Decoded {
    decode(&Renderer { seed }.answer(&task(prompt, 128, 128)).expect("rendered").image)
}

fn mean_luma(picture: &Decoded) -> f64 {
    let sum: f64 = picture
        .rgb
        .chunks(3)
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .sum();
    sum / (picture.rgb.len() / 3) as f64
}

/// Share of pixels whose colour is near `target` in hue, with some chroma.
fn share_near(picture: &Decoded, target: [u8; 3]) -> f64 {
    let hue = |p: [f64; 3]| {
        let (max, min) = (p[0].max(p[1]).max(p[2]), p[0].min(p[1]).min(p[2]));
        let c = max - min;
        let h = if c == 0.0 {
            0.0
        } else if max == p[0] {
            60.0 * ((p[1] - p[2]) / c).rem_euclid(6.0)
        } else if max == p[1] {
            60.0 * ((p[2] - p[0]) / c + 2.0)
        } else {
            60.0 * ((p[0] - p[1]) / c + 4.0)
        };
        (h, c)
    };
    let (target_hue, _) = hue(target.map(f64::from));
    let near = picture
        .rgb
        .chunks(3)
        .filter(|p| {
            let (h, c) = hue([f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]);
            let d = (h - target_hue).abs();
            c >= 30.0 && d.min(360.0 - d) <= 25.0
        })
        .count();
    near as f64 / (picture.rgb.len() / 3) as f64
}

#[test]
fn answers_decode_at_the_requested_size_within_the_byte_limits() {
    for &(width, height) in &[(256, 256), (320, 240), (240, 320), (1, 1), (7, 300)] {
        for prompt in &PROMPTS[..3] {
            let task: ImageTask = task(prompt, width, height);
            let png = Renderer { seed: 1 }.png(&task).expect("rendered");
            assert!(png.len() <= 384 * 1024, "{prompt:?} {width}x{height}: {} bytes", png.len());
            let picture = decode(&Renderer { seed: 1 }.answer(&task).expect("rendered").image);
            assert_eq!((picture.width, picture.height), (width, height));
        }
    }
    let mut wrong = task("a red barn", 0, 10);
    assert_eq!(Renderer { seed: 1 }.png(&wrong).unwrap_err().to_string(), "size 0x10 is outside 1..=2048");
    wrong = task("a red barn", 64, 64);
    wrong.max_bytes = 100;
    assert!(Renderer { seed: 1 }.png(&wrong).unwrap_err().to_string().contains("over the task's 100"));
}

#[test]
fn pictures_depend_only_on_prompt_size_and_seed() {
    let a = Renderer { seed: 5 }.png(&task(PROMPTS[0], 256, 256)).expect("rendered");
    assert_eq!(a, Renderer { seed: 5 }.png(&task(PROMPTS[0], 256, 256)).expect("rendered"));
    assert_ne!(a, Renderer { seed: 6 }.png(&task(PROMPTS[0], 256, 256)).expect("rendered"));
    assert_ne!(a, Renderer { seed: 5 }.png(&task(PROMPTS[1], 256, 256)).expect("rendered"));
}

#[test]
fn dark_prompts_render_darker_than_bright_ones() {
    // Without colour words the light words set the exposure; a named colour caps how bright
    // the picture can get (saturated red is dark in luma), so there only the gap is checked.
    let pairs = [
        ("a dark forest at night", "a bright sunny forest", true),
        ("a moonlit lake", "a lake in daylight", true),
        ("a gloomy red city at midnight", "a sunlit red city", false),
    ];
    for seed in 0..3 {
        for (dark, bright, uncoloured) in pairs {
            let (d, b) = (mean_luma(&render(dark, seed)), mean_luma(&render(bright, seed)));
            assert!(b - d > 60.0, "seed {seed}: {dark:?} {d:.0} vs {bright:?} {b:.0}");
            assert!(!uncoloured || (d < 90.0 && b > 130.0), "seed {seed}: {dark:?} {d:.0} vs {bright:?} {b:.0}");
        }
    }
}

#[test]
fn colour_words_dominate_the_palette() {
    let cases: &[(&str, [u8; 3])] = &[
        ("a red barn in a field", [200, 30, 35]),
        ("a blue whale under the sea", [40, 90, 210]),
        ("green hills with a yellow sun", [50, 160, 60]),
        ("a dark forest at night lit by a single red lantern", [200, 30, 35]),
        ("a purple and orange nebula", [130, 50, 170]),
    ];
    for seed in 0..3 {
        for &(prompt, colour) in cases {
            let share = share_near(&render(prompt, seed), colour);
            assert!(share >= 0.25, "seed {seed}: {prompt:?}: {:.0} % near the named colour", 100.0 * share);
        }
    }
    let grey = render("a black and white photograph of a red car", 3);
    assert!(grey.rgb.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]), "black and white is grey");
}

#[test]
fn prompts_are_read_for_light_colour_and_subject() {
    let scene = Scene::of_prompt("A Dark tower, RED and blue, at night");
    assert_eq!(scene.light, Light::Dark);
    assert_eq!(scene.subject, Subject::Tower);
    assert_eq!(scene.colours.len(), 2);
    assert_eq!(Scene::of_prompt("bright lights in a dark room").light, Light::Neutral);
    assert_eq!(Scene::of_prompt("snowy mountain").subject, Subject::Peak);
    assert!(Scene::of_prompt("b&w portrait").monochrome);
    assert_eq!(Scene::of_prompt("a warm sunset").temperature, 1);
}
