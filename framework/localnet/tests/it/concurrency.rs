//! Many clients at once: every call is applied exactly once and the books balance.

use std::collections::BTreeSet;
use std::sync::Arc;

use chain::Chain;
use localnet::Client;

use crate::{Net, TAO, genesis, key, quick};

#[tokio::test]
async fn concurrent_clients_get_distinct_uids_and_exact_balances() {
    let net = Net::start(&genesis(quick())).await;
    let address = format!("http://{}", net.address);
    let mut tasks = Vec::new();
    for n in 1..=16u8 {
        let client = Client::new(&address).unwrap();
        tasks.push(tokio::spawn(async move {
            let (coldkey, hotkey) = (key(n), key(100 + n));
            let uid = client.register(&coldkey, 1, &hotkey.account()).await.unwrap();
            for _ in 0..5 {
                client.add_stake(&coldkey, &hotkey.account(), 1, TAO).await.unwrap();
            }
            uid
        }));
    }
    let producer = {
        let client = Arc::new(Client::new(&address).unwrap());
        tokio::spawn(async move {
            for _ in 0..20 {
                client.advance_blocks(&crate::sudo(), 1).await.unwrap();
            }
        })
    };
    let mut uids = BTreeSet::new();
    for task in tasks {
        assert!(uids.insert(task.await.unwrap()));
    }
    producer.await.unwrap();
    assert_eq!(uids, (1..=16).collect());
    let metagraph = net.client.metagraph(1).await.unwrap();
    assert_eq!(metagraph.neurons.len(), 17);
    for n in 1..=16u8 {
        let neuron = metagraph.neuron(&key(100 + n).account()).unwrap();
        assert_eq!(neuron.coldkey, key(n).account());
        assert!(neuron.stake >= 5 * TAO, "stake plus any emission");
        assert_eq!(net.client.balance(&key(n).account()).await.unwrap(), 1000 * TAO - TAO - 5 * TAO);
    }
    assert_eq!(net.client.block().await.unwrap(), 20);
    assert!(net.client.issuance().await.unwrap().is_conserved());
}
