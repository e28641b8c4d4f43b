//! A plugin that misbehaves on request, for the host's adversarial tests.
//!
//! It is written against the raw WIT (not `sdk-guest`), so nothing stands between it and the ABI:
//! it can return NaN scores, the wrong number of scores, or gigantic outputs.
//!
//! `make-task` picks its behaviour from `context.seed` ([`MakeTaskAttack`] numbering), and `score`
//! from the task's private part, which is a JSON string naming the attack (e.g. `"nan"`). Anything
//! not listed behaves: a small valid task, and a score of 0.5 per response.

use std::hint::black_box;

#[allow(missing_docs, unreachable_pub, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "../../../../sdk-guest/wit",
    });
}

use bindings::exports::subnetkit::mechanism::mechanism::{
    Context, Defaults, Guest, PluginManifest, Response, Scores, Settlement, Task,
};

/// The ABI version stamp, as `sdk-guest` writes it (`componentize` moves it to the component).
#[unsafe(link_section = "subnetkit:abi")]
#[used]
static ABI_VERSION: [u8; 5] = *b"0.1.0";

struct Hostile;

const MIB: usize = 1 << 20;

/// Seeds understood by `make-task`.
mod seed {
    pub(crate) const LOOP: u64 = 1;
    pub(crate) const ALLOC: u64 = 2;
    pub(crate) const RECURSION: u64 = 3;
    pub(crate) const UNREACHABLE: u64 = 4;
    pub(crate) const PANIC: u64 = 5;
    pub(crate) const HUGE_OUTPUT: u64 = 6;
    pub(crate) const ERROR: u64 = 7;
    pub(crate) const NOT_JSON: u64 = 8;
}

impl Guest for Hostile {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "hostile".into(),
            version: "0.0.0".into(),
            description: "Misbehaves on request.".into(),
            task_schema: r#"{"type":"object"}"#.into(),
            private_schema: r#"{"type":"string"}"#.into(),
            response_schema: "true".into(),
            truth_schema: None,
            defaults: Defaults {
                query_timeout_ms: 1000,
                sample_size: 8,
                moving_average_alpha: 0.1,
                settlement_delay_ms: None,
            },
            feeds: Vec::new(),
        }
    }

    fn make_task(context: Context) -> Result<Task, String> {
        let public = match context.seed {
            seed::LOOP => spin(),
            seed::ALLOC => hoard(),
            seed::RECURSION => recurse(0, &[0; 64]).to_string().into_bytes(),
            seed::UNREACHABLE => core::arch::wasm32::unreachable(),
            seed::PANIC => panic!("hostile plugin panicked on purpose (seed {})", context.seed),
            // 100 MB: under the memory limit, over the output limit.
            seed::HUGE_OUTPUT => vec![b' '; 100_000_000],
            seed::ERROR => return Err(format!("declined seed {}", context.seed)),
            seed::NOT_JSON => b"{not json".to_vec(),
            _ => format!(r#"{{"seed":{},"block":{}}}"#, context.seed, context.block).into_bytes(),
        };
        Ok(Task { public, private: br#""ok""#.to_vec(), settlement: Settlement::Immediate })
    }

    fn score(task: Task, responses: Vec<Response>, _truth: Option<Vec<u8>>) -> Result<Scores, String> {
        let attack = String::from_utf8_lossy(&task.private).trim_matches('"').to_string();
        let n = responses.len();
        let mut values = vec![0.5; n];
        let mut diagnostics = format!("attack {attack}");
        match attack.as_str() {
            "loop" => {
                spin();
            }
            "alloc" => {
                hoard();
            }
            "recursion" => values[0] = recurse(0, &[0; 64]) as f64,
            "unreachable" => core::arch::wasm32::unreachable(),
            "panic" => panic!("hostile plugin panicked on purpose ({n} responses)"),
            "nan" => values[n - 1] = f64::NAN,
            "infinite" => values[0] = f64::INFINITY,
            "negative" => values[0] = -0.25,
            "above-one" => values[0] = 1.5,
            "too-many" => values.push(0.5),
            "too-few" => {
                values.pop();
            }
            // Bounded by the host: truncated.
            "diagnostics-1mib" => diagnostics = "d".repeat(MIB),
            // Over the output limit: refused before the host copies it.
            "diagnostics-32mib" => diagnostics = "d".repeat(32 * MIB),
            // Grows until something stops it.
            "diagnostics-unbounded" => loop {
                diagnostics.push_str(&"d".repeat(MIB));
                black_box(&diagnostics);
            },
            "error" => return Err("declined: ".to_string() + &"e".repeat(MIB)),
            // Deterministic, float-heavy work: the same bits on every engine.
            "float" => {
                for (i, r) in responses.iter().enumerate() {
                    let x = r.body.as_ref().map_or(0, |b| b.len()) as f64 + i as f64 + r.latency_ms as f64;
                    let y = (x.sin() * x.ln_1p()).abs().sqrt() + (x * 0.37).exp().recip();
                    values[i] = y / (1.0 + y);
                }
            }
            _ => {}
        }
        Ok(Scores { values, diagnostics })
    }
}

fn spin() -> Vec<u8> {
    let mut i = 0u64;
    loop {
        i = black_box(i.wrapping_add(1));
    }
}

fn hoard() -> Vec<u8> {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(black_box(vec![1; MIB]));
    }
}

/// Recursion with a frame in linear memory (Rust's shadow stack): unbounded.
#[inline(never)]
fn recurse(depth: u64, parent: &[u8; 64]) -> u64 {
    let mut frame = [0u8; 64];
    frame[(depth % 64) as usize] = parent[0].wrapping_add(1);
    black_box(&mut frame);
    if black_box(true) { recurse(black_box(depth + 1), &frame) + u64::from(frame[0]) } else { 0 }
}

bindings::export!(Hostile with_types_in bindings);
