//! TEMPORARY experiment (not to commit).
use std::io::BufRead;
use std::time::Instant;
use miner_text_generation::smollm2::SmolLm2;
use miner_text_generation::{GenerationRequest, Sampling};
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let max_new: u32 = args[1].parse()?;
    let variant = args[2].clone();
    let seeds: Vec<u64> = args[3].split(',').map(|s| s.parse().unwrap()).collect();
    let path = std::env::var_os("SMOLLM2_GGUF").unwrap();
    let base = SmolLm2::load(&path)?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let public: serde_json::Value = serde_json::from_str(&line)?;
        let prompt = public["prompt"].as_str().unwrap().to_string();
        let kind = public["kind"].as_str().unwrap();
        let system = match (kind, variant.as_str()) {
            ("math", _) => "Solve the problem step by step, briefly. End with the final answer as `#### N`.",
            (_, "old") => "Follow the instruction. Answer directly and concisely.",
            (_, _) => "Follow the instruction. Answer in one or two short sentences, without repeating the question.",
        };
        let mut outs = Vec::new();
        for &seed in &seeds {
            let model = if seed == 0 { base.clone().greedy() } else { base.clone().with_sampling(&Sampling { temperature: 0.7, top_p: Some(0.9), seed: Some(seed) })? };
            let t = Instant::now();
            let g = model.generate_blocking(&GenerationRequest::new(prompt.clone()).with_system(system).with_max_new_tokens(max_new).without_time_limit())?;
            eprintln!("{} tokens in {:.1?}", g.generated_tokens, t.elapsed());
            outs.push(g.text);
        }
        println!("{}", serde_json::to_string(&outs)?);
    }
    Ok(())
}
