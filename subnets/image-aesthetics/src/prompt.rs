//! Simple attributes a prompt asks for (brightness, named colours, black and white, vividness,
//! warm or cool light), and how well an image agrees with them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::{Colour, Features, ramp};

/// Overall brightness a prompt asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Brightness {
    /// "dark", "night", "dim", …: a low mean luma.
    Dark,
    /// "bright", "sunny", "daylight", …: a high mean luma.
    Bright,
}

/// Colour temperature a prompt asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Temperature {
    /// "warm", "golden", "sunset", …: more red than blue.
    Warm,
    /// "cool", "icy", "wintry", …: more blue than red.
    Cool,
}

/// The checkable attributes of a prompt. Derived from the prompt text in `make_task` and kept in
/// the task's private part, so the scores can be replayed from the recorded task alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attributes {
    /// Requested brightness, if any.
    #[serde(default)]
    pub brightness: Option<Brightness>,
    /// Colours named in the prompt, sorted, without repeats.
    #[serde(default)]
    pub colours: Vec<Colour>,
    /// "black and white", "monochrome", "greyscale": little colour.
    #[serde(default)]
    pub monochrome: bool,
    /// "vivid", "colourful", "vibrant", "saturated": much colour.
    #[serde(default)]
    pub vivid: bool,
    /// Requested colour temperature, if any.
    #[serde(default)]
    pub temperature: Option<Temperature>,
}

const DARK: &[&str] = &["dark", "night", "midnight", "dim", "shadowy", "gloomy", "moonlit", "nocturnal", "lowkey"];
const BRIGHT: &[&str] = &["bright", "sunny", "sunlit", "daylight", "luminous", "highkey", "airy", "snowy"];
const MONO: &[&str] = &["monochrome", "greyscale", "grayscale", "monochromatic"];
const VIVID: &[&str] = &["vivid", "colorful", "colourful", "vibrant", "saturated"];
const WARM: &[&str] = &["warm", "golden", "sunset", "candlelit", "fiery"];
const COOL: &[&str] = &["cool", "icy", "wintry", "frosty", "arctic"];

fn colour_word(word: &str) -> Option<Colour> {
    Some(match word {
        "red" | "crimson" | "scarlet" => Colour::Red,
        "orange" => Colour::Orange,
        "yellow" => Colour::Yellow,
        "green" | "emerald" => Colour::Green,
        "cyan" | "teal" | "turquoise" => Colour::Cyan,
        "blue" | "azure" | "navy" => Colour::Blue,
        "purple" | "violet" | "lavender" => Colour::Purple,
        "pink" | "magenta" => Colour::Pink,
        "brown" => Colour::Brown,
        "white" => Colour::White,
        "black" => Colour::Black,
        "grey" | "gray" => Colour::Grey,
        _ => return None,
    })
}

impl Attributes {
    /// The attributes of `prompt`, from its words (normalised by [`sdk_guest::text`]). "black and
    /// white" and "b w" mean monochrome, not the two colours; "low key"/"high key" are joined.
    pub fn of_prompt(prompt: &str) -> Attributes {
        let text = format!(" {} ", sdk_guest::text::normalize(prompt));
        let mut monochrome = false;
        let mut text = text;
        for phrase in [" black and white ", " b w "] {
            if text.contains(phrase) {
                monochrome = true;
                text = text.replace(phrase, " ");
            }
        }
        let text = text.replace(" low key ", " lowkey ").replace(" high key ", " highkey ");
        let words: Vec<&str> = sdk_guest::text::words(&text).collect();
        let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
        let brightness = match (has(DARK), has(BRIGHT)) {
            (true, false) => Some(Brightness::Dark),
            (false, true) => Some(Brightness::Bright),
            _ => None,
        };
        let temperature = match (has(WARM), has(COOL)) {
            (true, false) => Some(Temperature::Warm),
            (false, true) => Some(Temperature::Cool),
            _ => None,
        };
        monochrome |= has(MONO);
        let mut colours: Vec<Colour> = words.iter().filter_map(|w| colour_word(w)).collect();
        colours.sort();
        colours.dedup();
        if monochrome {
            // Greys, black and white are what a monochrome image is made of; hues contradict it.
            colours.retain(|c| matches!(c, Colour::White | Colour::Black | Colour::Grey));
        }
        Attributes { brightness, colours, monochrome, vivid: has(VIVID) && !monochrome, temperature }
    }

    /// Whether the prompt asks for anything checkable.
    pub fn is_empty(&self) -> bool {
        self.brightness.is_none()
            && self.colours.is_empty()
            && !self.monochrome
            && !self.vivid
            && self.temperature.is_none()
    }

    /// Agreement of an image with these attributes, in `[0, 1]`: the mean of one score per
    /// attribute; `None` when there is nothing to check.
    pub fn agreement(&self, f: &Features) -> Option<f64> {
        use params::*;
        let mut parts: Vec<f64> = Vec::new();
        match self.brightness {
            Some(Brightness::Dark) => parts.push(1.0 - ramp(f.mean_luma, DARK_FULL, DARK_ZERO)),
            Some(Brightness::Bright) => parts.push(ramp(f.mean_luma, BRIGHT_ZERO, BRIGHT_FULL)),
            None => {}
        }
        for c in &self.colours {
            parts.push((f.colour_share[c.index()] / COLOUR_SHARE_FULL).min(1.0));
        }
        if self.monochrome {
            parts.push(1.0 - ramp(f.colourfulness, MONO_FULL, MONO_ZERO));
        }
        if self.vivid {
            parts.push(ramp(f.colourfulness, VIVID_ZERO, VIVID_FULL));
        }
        match self.temperature {
            Some(Temperature::Warm) => parts.push(ramp(f.warmth, WARM_ZERO, WARM_FULL)),
            Some(Temperature::Cool) => parts.push(ramp(-f.warmth, WARM_ZERO, WARM_FULL)),
            None => {}
        }
        if parts.is_empty() {
            return None;
        }
        let mean = parts.iter().sum::<f64>() / parts.len() as f64;
        Some(sdk_guest::score::clamp(mean))
    }
}

/// The thresholds of [`Attributes::agreement`]; the README lists every one.
pub mod params {
    /// Mean luma at or below which a "dark" prompt is fully met.
    pub const DARK_FULL: f64 = 80.0;
    /// Mean luma at or above which a "dark" prompt is not met at all.
    pub const DARK_ZERO: f64 = 150.0;
    /// Mean luma at or above which a "bright" prompt is fully met.
    pub const BRIGHT_FULL: f64 = 150.0;
    /// Mean luma at or below which a "bright" prompt is not met at all.
    pub const BRIGHT_ZERO: f64 = 80.0;
    /// Share of pixels in a named colour's region at which the colour counts as fully present.
    pub const COLOUR_SHARE_FULL: f64 = 0.12;
    /// Colourfulness at or below which "black and white" is fully met.
    pub const MONO_FULL: f64 = 6.0;
    /// Colourfulness at or above which "black and white" is not met at all.
    pub const MONO_ZERO: f64 = 30.0;
    /// Colourfulness at or below which "vivid" is not met at all.
    pub const VIVID_ZERO: f64 = 15.0;
    /// Colourfulness at or above which "vivid" is fully met.
    pub const VIVID_FULL: f64 = 60.0;
    /// Mean red minus mean blue at or below which "warm" is not met at all ("cool": the negative).
    pub const WARM_ZERO: f64 = -5.0;
    /// Mean red minus mean blue at or above which "warm" is fully met ("cool": the negative).
    pub const WARM_FULL: f64 = 20.0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_attributes() {
        let a = Attributes::of_prompt("A dark forest at night with a red lantern and green moss");
        assert_eq!(a.brightness, Some(Brightness::Dark));
        assert_eq!(a.colours, [Colour::Red, Colour::Green]);
        assert!(!a.monochrome && !a.vivid && a.temperature.is_none());

        let b = Attributes::of_prompt("Black and white portrait of an old fisherman, high key");
        assert!(b.monochrome);
        assert!(b.colours.is_empty());
        assert_eq!(b.brightness, Some(Brightness::Bright));

        let c = Attributes::of_prompt("Vivid, colourful market stalls in warm sunset light");
        assert!(c.vivid);
        assert_eq!(c.temperature, Some(Temperature::Warm));

        assert!(Attributes::of_prompt("A lighthouse on a cliff").is_empty());
        // Contradictions cancel rather than pick a side.
        assert_eq!(Attributes::of_prompt("bright lights in a dark room").brightness, None);
    }
}
