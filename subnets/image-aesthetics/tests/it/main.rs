//! Integration tests: quality ladders on real photos, prompt attributes, cheats, the plugin path.

mod cheats;
mod harness;
mod ladders;
mod plugin;
mod prompts;
mod support;
