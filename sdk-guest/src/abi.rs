//! The ABI glue: wit-bindgen's bindings and the generic implementation of the world's exports.
//!
//! Everything here is reached through `__private` by [`export_mechanism!`](crate::export_mechanism)
//! and through [`wire`](crate::wire) and [`testing`](crate::testing). The same functions run in the
//! plugin and in native tests, so a native test exercises exactly the plugin's encode/decode path.

use std::marker::PhantomData;

use schemars::{JsonSchema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::types::{Context, Feed, NoTruth, Outcome, Response, Scores, Settlement, Task};
use crate::{Mechanism, score};

/// The bindings wit-bindgen generates for the `plugin` world.
#[allow(missing_docs, unsafe_code, unreachable_pub, unused_qualifications, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "wit",
        pub_export_macro: true,
        default_bindings_module: "::sdk_guest::__private::bindings",
        runtime_path: "::sdk_guest::__private::wit_bindgen::rt",
    });
}

use bindings::exports::subnetkit::mechanism::mechanism as wire;

/// The type `export_mechanism!` hands to wit-bindgen's export macro: it implements the world's
/// exports for any mechanism `M`.
pub struct Export<M>(PhantomData<M>);

impl<M: Mechanism> wire::Guest for Export<M> {
    fn manifest() -> wire::PluginManifest {
        crate::panic::install_hook();
        manifest::<M>()
    }

    fn make_task(context: wire::Context) -> Result<wire::Task, String> {
        crate::panic::install_hook();
        make_task::<M>(context)
    }

    fn score(task: wire::Task, responses: Vec<wire::Response>, truth: Option<Vec<u8>>) -> Result<wire::Scores, String> {
        crate::panic::install_hook();
        score::<M>(task, responses, truth)
    }
}

/// Names `M: Mechanism` at the macro call site, so that a type that is not a mechanism gets the
/// trait's own error message there.
pub const fn assert_mechanism<M: Mechanism>() {}

/// The bytes of `version` as an array, for the `subnetkit:abi` custom section.
pub const fn abi_bytes<const N: usize>(version: &str) -> [u8; N] {
    let bytes = version.as_bytes();
    assert!(bytes.len() == N, "the array length must be the version's length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Decodes JSON, naming the path of the offending field in the error.
pub(crate) fn decode<T: DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| e.to_string())?;
    // Trailing characters after the value are an error too.
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

fn encode<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>, String> {
    serde_json::to_vec(value).map_err(|e| format!("cannot encode the {what}: {e}"))
}

/// The JSON Schema (draft 2020-12) of `T`, as a string.
pub(crate) fn schema_json<T: JsonSchema>() -> String {
    SchemaGenerator::default().into_root_schema_for::<T>().as_value().to_string()
}

/// Whether `T` is [`NoTruth`].
fn is_no_truth<T: JsonSchema>() -> bool {
    T::schema_id() == NoTruth::schema_id()
}

/// The `manifest` export.
pub(crate) fn manifest<M: Mechanism>() -> wire::PluginManifest {
    let m = M::manifest();
    wire::PluginManifest {
        name: m.name,
        version: m.version,
        description: m.description,
        task_schema: schema_json::<M::Task>(),
        private_schema: schema_json::<M::Private>(),
        response_schema: schema_json::<M::Response>(),
        truth_schema: if is_no_truth::<M::Truth>() { None } else { Some(schema_json::<M::Truth>()) },
        defaults: wire::Defaults {
            query_timeout_ms: m.defaults.query_timeout_ms,
            sample_size: m.defaults.sample_size,
            moving_average_alpha: m.defaults.moving_average_alpha,
            settlement_delay_ms: m.defaults.settlement_delay_ms,
        },
        feeds: m.feeds,
    }
}

/// The `make-task` export.
pub(crate) fn make_task<M: Mechanism>(context: wire::Context) -> Result<wire::Task, String> {
    let context = Context {
        seed: context.seed,
        block: context.block,
        unix_ms: context.unix_ms,
        feeds: context.feeds.into_iter().map(|f| Feed { name: f.name, value: f.value }).collect(),
    };
    let task = M::make_task(&context)?;
    Ok(wire::Task {
        public: encode(&task.public, "task's public part")?,
        private: encode(&task.private, "task's private part")?,
        settlement: match task.settlement {
            Settlement::Immediate => wire::Settlement::Immediate,
            Settlement::Delayed(ms) => wire::Settlement::Delayed(ms),
        },
    })
}

/// Decodes a task as the `score` export receives it.
pub(crate) fn decode_task<M: Mechanism>(task: &wire::Task) -> Result<Task<M::Task, M::Private>, String> {
    Ok(Task {
        public: decode(&task.public).map_err(|e| format!("invalid task: public part: {e}"))?,
        private: decode(&task.private).map_err(|e| format!("invalid task: private part: {e}"))?,
        settlement: match task.settlement {
            wire::Settlement::Immediate => Settlement::Immediate,
            wire::Settlement::Delayed(ms) => Settlement::Delayed(ms),
        },
    })
}

/// Decodes one response; a body that does not decode, or that `check_response` refuses, makes the
/// response [`Outcome::Invalid`].
fn decode_response<M: Mechanism>(task: &Task<M::Task, M::Private>, r: wire::Response) -> Response<M::Response> {
    let mut outcome = match r.outcome {
        wire::Outcome::Ok => Outcome::Ok,
        wire::Outcome::Timeout => Outcome::Timeout,
        wire::Outcome::TransportError => Outcome::TransportError,
        wire::Outcome::Invalid => Outcome::Invalid,
    };
    let mut body = None;
    let mut invalid_reason = None;
    if outcome == Outcome::Ok {
        let decoded = match &r.body {
            None => Err("no body".to_owned()),
            Some(bytes) => decode::<M::Response>(bytes).map_err(|e| format!("invalid body: {e}")),
        };
        match decoded.and_then(|b| M::check_response(task, &b).map(|()| b)) {
            Ok(b) => body = Some(b),
            Err(reason) => {
                outcome = Outcome::Invalid;
                invalid_reason = Some(reason);
            }
        }
    }
    // `r.body`, the received bytes, is freed here, before the next response is decoded.
    Response { uid: r.uid, hotkey: r.hotkey, outcome, body, invalid_reason, latency_ms: r.latency_ms }
}

/// The `score` export.
pub(crate) fn score<M: Mechanism>(
    task: wire::Task,
    responses: Vec<wire::Response>,
    truth: Option<Vec<u8>>,
) -> Result<wire::Scores, String> {
    let task = decode_task::<M>(&task)?;
    let truth: Option<M::Truth> = match truth {
        None => None,
        Some(bytes) => Some(decode(&bytes).map_err(|e| format!("invalid truth: {e}"))?),
    };
    let n = responses.len();
    let responses: Vec<Response<M::Response>> = responses.into_iter().map(|r| decode_response::<M>(&task, r)).collect();
    let Scores { values, diagnostics } = M::score(&task, &responses, truth.as_ref())?;
    if values.len() != n {
        return Err(format!("the mechanism returned {} scores for {n} responses", values.len()));
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !score::is_valid(**v)) {
        return Err(format!(
            "score {i} is {v}, not a number in [0, 1] (pass doubtful scores through sdk_guest::score::clamp)"
        ));
    }
    Ok(wire::Scores { values, diagnostics })
}
