//! The miner as the server calls it: a task body in, a response valid under the plugin's
//! response schema out.

use miner::{Miner, Task, Validator};
use miner_price_prediction::{Config, Prediction, PricePredictionMiner, SUBNET, response_schema, task_schema};
use protocol::{CryptoScheme, Keypair};

use crate::{real_candles, task_for};

fn task(body: serde_json::Value) -> Task {
    let hotkey = Keypair::from_seed(CryptoScheme::Sr25519, &[7; 32]).account();
    Task { subnet: SUBNET.to_owned(), netuid: 1, validator: Validator { hotkey, uid: 0, stake: 1 }, body }
}

#[test]
fn the_schemas_are_the_plugins_shapes() {
    let task: serde_json::Value = serde_json::from_str(&task_schema()).expect("JSON");
    assert_eq!(task["title"], "PredictionTask");
    assert_eq!(task["additionalProperties"], false);
    assert!(task["$defs"]["Candle"].is_object());
    let response: serde_json::Value = serde_json::from_str(&response_schema()).expect("JSON");
    assert_eq!(response["title"], "Prediction");
    assert_eq!(response["required"], serde_json::json!(["task_id", "closes"]));
    // The server compiles both schemas.
    let subnet = PricePredictionMiner::new(Config::default()).expect("valid").into_subnet(7).expect("a subnet");
    assert_eq!((subnet.name(), subnet.netuid()), (SUBNET, 7));
}

#[tokio::test]
async fn a_task_body_gets_a_prediction() {
    let miner = PricePredictionMiner::new(Config::default()).expect("valid");
    let candles = real_candles();
    let body = serde_json::to_value(task_for(&candles[380..500], 6)).expect("serialises");
    let answer = miner.handle(task(body.clone())).await.expect("an answer");
    let prediction: Prediction = serde_json::from_value(answer).expect("a Prediction");
    assert_eq!(prediction.task_id, body["task_id"]);
    assert_eq!(prediction.closes.len(), 6);
    assert_eq!(prediction.intervals.map(|i| i.len()), Some(6));

    let mut wrong = body;
    wrong["horizon"] = serde_json::json!(0);
    assert!(miner.handle(task(wrong)).await.is_err());
    assert!(miner.handle(task(serde_json::json!({"task_id": "x"}))).await.is_err());
}
