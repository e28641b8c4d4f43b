//! Building a miner: what configurations are refused.

use std::time::Duration;

use miner::{ConfigError, MinerState, Options, Subnet, SubnetError};

use crate::{Doubler, RESPONSE_SCHEMA, TASK_SCHEMA, miner_key};

fn doubler() -> Doubler {
    Doubler {
        gate: std::sync::Arc::new(tokio::sync::Semaphore::new(0)),
        entered: Default::default(),
        order: Default::default(),
    }
}

#[test]
fn subnet_names_are_route_segments() {
    for bad in ["", "Upper", "a/b", "a b", "{x}", &"x".repeat(65)] {
        let error = Subnet::new(bad, 1, TASK_SCHEMA, RESPONSE_SCHEMA, doubler()).expect_err(bad);
        assert!(matches!(error, SubnetError::Name(_)), "{bad}: {error}");
    }
    assert!(Subnet::new("text-generation_2", 1, TASK_SCHEMA, RESPONSE_SCHEMA, doubler()).is_ok());
}

#[test]
fn schemas_must_compile_and_stay_local() {
    let error = Subnet::new("s", 1, "{", RESPONSE_SCHEMA, doubler()).expect_err("not JSON");
    assert!(matches!(error, SubnetError::SchemaJson { which: "task", .. }), "{error}");
    let error = Subnet::new("s", 1, TASK_SCHEMA, r#"{"type": 12}"#, doubler()).expect_err("not a schema");
    assert!(matches!(error, SubnetError::Schema { which: "response", .. }), "{error}");
    let remote = r#"{"$ref": "http://127.0.0.1:9/schema.json"}"#;
    let error = Subnet::new("s", 1, remote, RESPONSE_SCHEMA, doubler()).expect_err("external refs are refused");
    assert!(matches!(error, SubnetError::Schema { which: "task", .. }), "{error}");
}

#[test]
fn limits_must_be_positive() {
    let subnet = || Subnet::new("s", 1, TASK_SCHEMA, RESPONSE_SCHEMA, doubler()).expect("valid");
    assert!(matches!(subnet().with_deadline(Duration::ZERO), Err(SubnetError::Zero { .. })));
    assert!(matches!(subnet().with_queue(0, 4), Err(SubnetError::Zero { .. })));
    assert!(subnet().with_queue(1, 0).is_ok(), "no queue at all is allowed");
    let options = Options { max_body_bytes: 0, ..Options::default() };
    assert!(matches!(MinerState::new(miner_key(), options, vec![subnet()]), Err(ConfigError::Zero(_))));
}

#[test]
fn a_miner_serves_at_least_one_subnet_each_under_its_own_name() {
    let subnet = || Subnet::new("s", 1, TASK_SCHEMA, RESPONSE_SCHEMA, doubler()).expect("valid");
    assert!(matches!(MinerState::new(miner_key(), Options::default(), vec![]), Err(ConfigError::NoSubnets)));
    let twice = MinerState::new(miner_key(), Options::default(), vec![subnet(), subnet()]);
    assert!(matches!(twice, Err(ConfigError::DuplicateName(name)) if name == "s"));
}
