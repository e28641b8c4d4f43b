//! The database is the chain: reopening it resumes exactly, and bad files are refused clearly.

use chain::{Chain, Weights};
use localnet::{Localnet, OpenError};

use crate::{Net, TAO, genesis, key, quick};

#[tokio::test]
async fn a_restarted_chain_resumes_where_it_stopped() {
    let net = Net::start(&genesis(quick())).await;
    net.register(&key(1), &key(101)).await;
    net.register(&key(2), &key(102)).await;
    net.client.add_stake(&key(1), &key(101).account(), 1, 50 * TAO).await.unwrap();
    net.advance(10).await;
    net.client.set_weights(&key(101), 1, &Weights::from_pairs([(2, 1)]), 0).await.unwrap();
    net.advance(13).await;
    let metagraph = net.client.metagraph(1).await.unwrap();
    let issuance = net.client.issuance().await.unwrap();
    let epoch = net.client.last_epoch(1).await.unwrap();

    let net = net.restart().await;
    assert_eq!(net.client.metagraph(1).await.unwrap(), metagraph);
    assert_eq!(net.client.issuance().await.unwrap(), issuance);
    assert_eq!(net.client.last_epoch(1).await.unwrap(), epoch);
    assert_eq!(net.advance(1).await, metagraph.block + 1);
}

#[tokio::test]
async fn opening_and_creating_refuse_the_wrong_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sqlite");
    assert!(matches!(Localnet::open(&missing).await, Err(OpenError::NotInitialised { .. })));
    assert!(!missing.exists(), "open does not create");

    let db = dir.path().join("chain.sqlite");
    let chain = Localnet::init(&db, &genesis(quick())).await.unwrap();
    chain.advance(3).await.unwrap();
    drop(chain);
    let again = Localnet::init(&db, &genesis(quick())).await.unwrap_err();
    assert!(matches!(again, OpenError::AlreadyInitialised { block: 3, .. }), "{again}");
    assert_eq!(Localnet::open(&db).await.unwrap().block().await.unwrap(), 3, "the refused init changed nothing");

    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, b"this is not a database, it is a text file of some length").unwrap();
    let error = Localnet::open(&junk).await.unwrap_err();
    assert!(error.to_string().contains("junk.sqlite"), "{error}");
}
