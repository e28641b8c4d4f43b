//! Calls act only for the key that signed them, once.

use chain::{AccountId, ChainError, Keypair};
use localnet::Call;
use protocol::btauth::{self, Request};
use reqwest::StatusCode;

use crate::{Net, TAO, genesis, key, quick};

/// Sends `body` to the signed endpoint with `headers`, returning the status and the error.
async fn send(net: &Net, headers: &btauth::Headers, body: &[u8]) -> (StatusCode, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/v1/extrinsics", net.address))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers.to_pairs() {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn sign(signer: &Keypair, body: &[u8], receiver: &AccountId) -> btauth::Headers {
    let request = Request { method: "POST", target: "/v1/extrinsics", body };
    btauth::sign(signer, &request, Some(receiver), btauth::now_ns()).unwrap()
}

fn fund(coldkey: AccountId) -> Vec<u8> {
    serde_json::to_vec(&Call::Fund { coldkey, amount: TAO }).unwrap()
}

#[tokio::test]
async fn tampered_unsigned_misaddressed_and_replayed_requests_are_refused() {
    let net = Net::start(&genesis(quick())).await;
    let identity = net.chain.identity();
    let sudo = crate::sudo();
    let body = fund(key(240).account());

    let (status, error) = send(&net, &sign(&sudo, &body, &identity), &fund(key(241).account())).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("Unauthorized")), "{error}");

    let unsigned = reqwest::Client::new()
        .post(format!("http://{}/v1/extrinsics", net.address))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    let (status, _) = send(&net, &sign(&sudo, &body, &key(9).account()), &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "bound to another receiver");

    let headers = sign(&sudo, &body, &identity);
    let (status, _) = send(&net, &headers, &body).await;
    assert_eq!(status, StatusCode::OK);
    let (status, error) = send(&net, &headers, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(error["reason"].as_str().unwrap().contains("replayed"), "{error}");

    // The nonce survives a restart: the same request is still a replay.
    let net = net.restart().await;
    let (status, _) = send(&net, &headers, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(chain::Chain::balance(&net.client, &key(240).account()).await.unwrap(), TAO, "applied once");
}

#[tokio::test]
async fn a_refused_request_cannot_be_replayed_once_it_would_pass() {
    let net = Net::start(&genesis(chain::Hyperparams { weights_rate_limit: 5, ..quick() })).await;
    net.register(&key(1), &key(101)).await;
    let body =
        serde_json::to_vec(&Call::SetWeights { netuid: 1, uids: vec![1], values: vec![1], version_key: 0 }).unwrap();
    let headers = sign(&key(101), &body, &net.chain.identity());
    let (status, error) = send(&net, &headers, &body).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("SettingWeightsTooFast")));
    net.chain.advance(5).await.unwrap();
    let (status, error) = send(&net, &headers, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
}

#[tokio::test]
async fn the_signer_is_who_the_call_acts_for() {
    let mut two_subnets = genesis(quick());
    let mut second = two_subnets.subnets[0].clone();
    second.netuid = 2;
    two_subnets.subnets.push(second);
    let net = Net::start(&two_subnets).await;
    net.register(&key(1), &key(101)).await;
    // Coldkey 2 cannot register coldkey 1's hotkey elsewhere, nor move coldkey 1's balance.
    let register = serde_json::to_vec(&Call::Register { netuid: 2, hotkey: key(101).account() }).unwrap();
    let (status, error) = send(&net, &sign(&key(2), &register, &net.chain.identity()), &register).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::FORBIDDEN, Some("NonAssociatedColdKey")));
    let stake = serde_json::to_vec(&Call::AddStake { netuid: 1, hotkey: key(101).account(), amount: TAO }).unwrap();
    let (status, _) = send(&net, &sign(&key(2), &stake, &net.chain.identity()), &stake).await;
    assert_eq!(status, StatusCode::OK);
    let client = &net.client;
    assert_eq!(chain::Chain::balance(client, &key(1).account()).await.unwrap(), 999 * TAO, "only the burn");
    assert_eq!(chain::Chain::balance(client, &key(2).account()).await.unwrap(), 999 * TAO, "the signer paid");
    // Weights signed by a hotkey that is not registered are refused, whatever the body says.
    let weights =
        serde_json::to_vec(&Call::SetWeights { netuid: 1, uids: vec![1], values: vec![1], version_key: 0 }).unwrap();
    let (_, error) = send(&net, &sign(&key(1), &weights, &net.chain.identity()), &weights).await;
    assert_eq!(error["error"].as_str(), Some("HotKeyNotRegisteredInSubNet"));
}

#[tokio::test]
async fn malformed_calls_name_what_is_wrong() {
    let net = Net::start(&genesis(quick())).await;
    for (body, needle) in [
        (&br#"{"mint": {"amount": 1}}"#[..], "mint"),
        (br#"{"fund": {"coldkey": "nope", "amount": 1}}"#, "body.fund.coldkey"),
        (br#"{"fund": {"amount": 1}}"#, "coldkey"),
        (
            br#"{"fund": {"coldkey": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "amount": -1}}"#,
            "body.fund.amount",
        ),
        (br#"[1, 2"#, "line 1"),
    ] {
        let (status, error) = send(&net, &sign(&crate::sudo(), body, &net.chain.identity()), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let error: ChainError = serde_json::from_value(error).unwrap();
        assert!(
            matches!(&error, ChainError::Invalid { field, message } if field.contains(needle) || message.contains(needle)),
            "{error:?}"
        );
    }
}
