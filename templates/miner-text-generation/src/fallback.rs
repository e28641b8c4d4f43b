//! The test-only fallback.

use crate::generator::{GenerateError, GenerationRequest, Generator, finish};

/// **For tests only: not a model, and not a miner.** It answers with the prompt's distinct words,
/// lowercased, in order of first appearance, one per token of the budget, after the marker
/// `[test-fallback]`.
///
/// It exists so the miner's plumbing (server, queueing, config) can be tested without a model or
/// a network. The validator scores such an answer 0 (it is an echo of the prompt), so never serve
/// it for real. It is only built when a config names `"backend": "test_fallback"` explicitly;
/// [`GeneratorConfig::default`](crate::GeneratorConfig::default) is the real model.
#[derive(Clone, Copy, Debug, Default)]
pub struct TestFallback;

impl TestFallback {
    /// The marker every answer starts with.
    pub const MARKER: &'static str = "[test-fallback]";

    /// The answer, synchronously.
    pub fn answer(&self, request: &GenerationRequest) -> String {
        let mut words: Vec<String> = Vec::new();
        let tokens = request.prompt.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty());
        for word in tokens.map(str::to_lowercase) {
            if words.len() == request.max_new_tokens as usize {
                break;
            }
            if !words.contains(&word) {
                words.push(word);
            }
        }
        let raw =
            if words.is_empty() { Self::MARKER.to_owned() } else { format!("{} {}", Self::MARKER, words.join(" ")) };
        finish(&raw, request)
    }
}

impl Generator for TestFallback {
    async fn generate(&self, request: &GenerationRequest) -> Result<String, GenerateError> {
        Ok(self.answer(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_the_distinct_words_after_the_marker() {
        let request = GenerationRequest::new("What is 2 + 2? What, again, is 2+2?");
        assert_eq!(TestFallback.answer(&request), "[test-fallback] what is 2 again");
    }

    #[test]
    fn respects_the_token_budget_and_byte_limit() {
        let request = GenerationRequest::new("one two three four").with_max_new_tokens(2);
        assert_eq!(TestFallback.answer(&request), "[test-fallback] one two");
        let request = GenerationRequest::new("one two three four").with_max_bytes(19);
        assert_eq!(TestFallback.answer(&request), "[test-fallback] one");
        let request = GenerationRequest::new("one two three four").with_stop(" three");
        assert_eq!(TestFallback.answer(&request), "[test-fallback] one two");
    }

    #[test]
    fn an_empty_prompt_gives_the_marker_alone() {
        assert_eq!(TestFallback.answer(&GenerationRequest::new(" ?! ")), TestFallback::MARKER);
    }
}
