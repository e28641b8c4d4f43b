//! Graded quality ladders: known degradations of real photos must score in their known order.

use crate::harness::score_alone;
use crate::support::*;

/// A prompt with no checkable attributes, so only aesthetic quality counts.
const NEUTRAL: &str = "A photograph of something interesting";

fn png_score(img: &image_aesthetics::decode::Rgb8) -> f64 {
    score_alone(NEUTRAL, img.width(), img.height(), &b64(&png(img)))
}

fn assert_descending(name: &str, what: &str, ladder: &[(&str, f64)]) {
    for pair in ladder.windows(2) {
        assert!(
            pair[0].1 > pair[1].1,
            "{name}: {what}: {} ({}) should beat {} ({}); ladder {ladder:?}",
            pair[0].0,
            pair[0].1,
            pair[1].0,
            pair[1].1
        );
    }
}

#[test]
fn blur_ladder() {
    for name in PHOTOS {
        let img = photo(name, 256, 256);
        let ladder = [
            ("original", png_score(&img)),
            ("softened", png_score(&soften(&img))),
            ("blur r1", png_score(&blur(&img, 1))),
            ("blur r3", png_score(&blur(&img, 3))),
        ];
        assert_descending(name, "blur", &ladder);
        assert!(ladder[0].1 > 0.7, "{name}: original scores {}", ladder[0].1);
        assert!(ladder[3].1 < 0.1, "{name}: heavy blur scores {}", ladder[3].1);
    }
}

#[test]
fn noise_ladder() {
    for name in PHOTOS {
        let img = photo(name, 256, 256);
        let ladder = [
            ("original", png_score(&img)),
            ("noise 4", png_score(&noise(&img, 4.0, 7))),
            ("noise 8", png_score(&noise(&img, 8.0, 7))),
            ("noise 14", png_score(&noise(&img, 14.0, 7))),
        ];
        assert_descending(name, "noise", &ladder);
        assert!(png_score(&noise(&img, 24.0, 7)) == 0.0, "{name}: heavy noise should score 0");
    }
}

#[test]
fn contrast_ladder() {
    for name in PHOTOS {
        let img = photo(name, 256, 256);
        let ladder = [
            ("original", png_score(&img)),
            ("contrast 1/2", png_score(&low_contrast(&img, 1, 2))),
            ("contrast 1/4", png_score(&low_contrast(&img, 1, 4))),
            ("contrast 1/12", png_score(&low_contrast(&img, 1, 12))),
        ];
        assert_descending(name, "contrast", &ladder);
    }
}

#[test]
fn exposure_ladder() {
    for name in PHOTOS {
        let img = photo(name, 256, 256);
        let ladder = [
            ("original", png_score(&img)),
            ("underexposed 1/3", png_score(&exposure(&img, 1, 3))),
            ("underexposed 1/8", png_score(&exposure(&img, 1, 8))),
        ];
        assert_descending(name, "under-exposure", &ladder);
        // Brightening an underexposed photo (the rocket, mean luma 67) is an improvement, so the
        // over-exposure ladder starts from the well-exposed ones.
        let mean = image_aesthetics::analysis::Features::measure(&img).mean_luma;
        if mean < 100.0 {
            continue;
        }
        let over = [
            ("original", ladder[0].1),
            ("overexposed x3", png_score(&exposure(&img, 3, 1))),
            ("overexposed x6", png_score(&exposure(&img, 6, 1))),
        ];
        assert_descending(name, "over-exposure", &over);
    }
}

#[test]
fn jpeg_quality_does_not_beat_the_original_and_heavy_compression_loses() {
    for name in PHOTOS {
        let img = photo(name, 256, 256);
        let original = png_score(&img);
        let q95 = score_alone(NEUTRAL, 256, 256, &b64(&jpeg(&img, 95)));
        let q10 = score_alone(NEUTRAL, 256, 256, &b64(&jpeg(&img, 10)));
        assert!(q95 > 0.6 && (q95 - original).abs() < 0.05, "{name}: q95 {q95} vs original {original}");
        assert!(q10 < q95, "{name}: q10 {q10} vs q95 {q95}");
    }
}

#[test]
fn other_sizes_score_like_the_default() {
    // Non-square tasks work the same way.
    for name in PHOTOS {
        let wide = photo(name, 320, 240);
        let tall = photo(name, 240, 320);
        for img in [wide, tall] {
            let s = score_alone(NEUTRAL, img.width(), img.height(), &b64(&jpeg(&img, 92)));
            assert!(s > 0.6, "{name} {}x{}: {s}", img.width(), img.height());
            let blurred = score_alone(NEUTRAL, img.width(), img.height(), &b64(&jpeg(&blur(&img, 2), 92)));
            assert!(blurred < s, "{name}: blur {blurred} vs {s}");
        }
    }
}
