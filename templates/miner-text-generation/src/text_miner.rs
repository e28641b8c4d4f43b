//! The miner: a generation [`Backend`] answering the text-generation subnet's tasks.

use miner::{Miner, MinerError, Subnet, SubnetError, Task};
use schemars::{JsonSchema, SchemaGenerator};

use crate::wire::{Completion, Prompt, TaskKind};
use crate::{Backend, GenerationRequest, Generator};

/// The subnet's name: its route segment (`POST /text-generation/task`) and plugin name.
pub const SUBNET: &str = "text-generation";

/// The system prompt for maths tasks: the plugin reads the number after `####` first.
const MATH_SYSTEM: &str = "Solve the problem step by step, briefly. End with the final answer as `#### N`.";

/// The system prompt for instructions.
const INSTRUCTION_SYSTEM: &str = "Follow the instruction. Answer directly and concisely.";

/// The JSON Schema of the task ([`Prompt`]), as the plugin's manifest gives it.
pub fn task_schema() -> String {
    schema::<Prompt>()
}

/// The JSON Schema of the response ([`Completion`]), as the plugin's manifest gives it.
pub fn response_schema() -> String {
    schema::<Completion>()
}

fn schema<T: JsonSchema>() -> String {
    SchemaGenerator::default().into_root_schema_for::<T>().as_value().to_string()
}

/// The miner: one shared [`Backend`] (build it once at startup).
#[derive(Clone, Debug)]
pub struct TextGenerationMiner {
    backend: Backend,
}

impl TextGenerationMiner {
    /// A miner answering with `backend`.
    pub fn new(backend: Backend) -> TextGenerationMiner {
        TextGenerationMiner { backend }
    }

    /// The generation request for `task`: a system prompt by kind, and the task's byte limit.
    pub fn request(task: &Prompt) -> GenerationRequest {
        let system = match task.kind {
            TaskKind::Math => MATH_SYSTEM,
            TaskKind::Instruction => INSTRUCTION_SYSTEM,
        };
        GenerationRequest::new(task.prompt.clone())
            .with_system(system)
            .with_max_bytes(task.max_completion_bytes as usize)
    }

    /// The completion of `task`.
    pub async fn complete(&self, task: &Prompt) -> Result<Completion, crate::GenerateError> {
        let completion = self.backend.generate(&Self::request(task)).await?;
        Ok(Completion { completion })
    }

    /// The subnet entry the miner server serves: route [`SUBNET`], netuid `netuid`, the
    /// plugin's schemas and this miner.
    pub fn into_subnet(self, netuid: u16) -> Result<Subnet, SubnetError> {
        Subnet::new(SUBNET, netuid, &task_schema(), &response_schema(), self)
    }
}

impl Miner for TextGenerationMiner {
    async fn handle(&self, task: Task) -> Result<serde_json::Value, MinerError> {
        let task: Prompt = task.parse()?;
        let completion = self.complete(&task).await?;
        tracing::debug!(backend = self.backend.name(), bytes = completion.completion.len(), "completed");
        Ok(serde_json::to_value(completion)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TestFallback;

    #[tokio::test]
    async fn completes_within_the_tasks_byte_limit() {
        let miner = TextGenerationMiner::new(Backend::TestFallback(TestFallback));
        let task = Prompt {
            prompt: "Name three primary colours and explain why they are primary".into(),
            kind: TaskKind::Instruction,
            max_completion_bytes: 24,
        };
        let completion = miner.complete(&task).await.unwrap().completion;
        assert!(!completion.is_empty() && completion.len() <= 24, "{completion:?}");
        let math = Prompt { kind: TaskKind::Math, ..task };
        assert!(TextGenerationMiner::request(&math).system.as_deref().is_some_and(|s| s.contains("####")));
    }
}
