//! The local chain end to end: a real server on loopback, a real SQLite file, the HTTP client.

mod auth;
mod concurrency;
mod epoch;
mod restart;
mod rules;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chain::{Hyperparams, Keypair};
use localnet::{Client, Genesis, GenesisAccount, GenesisSubnet, Localnet, ServerState};
use protocol::CryptoScheme;
use tokio::sync::oneshot;

/// Test key number `n` (sr25519 from a fixed seed).
pub(crate) fn key(n: u8) -> Keypair {
    Keypair::from_seed(CryptoScheme::Sr25519, &[n; 32])
}

/// The sudo key of every test chain.
pub(crate) fn sudo() -> Keypair {
    key(200)
}

/// Owner coldkey and hotkey of subnet 1.
pub(crate) fn owner() -> (Keypair, Keypair) {
    (key(201), key(202))
}

pub(crate) const TAO: u64 = 1_000_000_000;

/// A genesis with subnet 1 (owned by [`owner`]) using `params`, and coldkeys 1..=20 funded
/// with 1000 TAO each.
pub(crate) fn genesis(params: Hyperparams) -> Genesis {
    let (owner_coldkey, owner_hotkey) = owner();
    Genesis {
        sudo: sudo().account(),
        accounts: (1..=20)
            .map(|n| GenesisAccount { coldkey: key(n).account(), balance: 1000 * TAO })
            .chain([GenesisAccount { coldkey: owner_coldkey.account(), balance: 1000 * TAO }])
            .collect(),
        subnets: vec![GenesisSubnet {
            netuid: 1,
            owner_coldkey: owner_coldkey.account(),
            owner_hotkey: owner_hotkey.account(),
            emission_per_block: TAO,
            hyperparams: params,
        }],
    }
}

/// Hyperparameters for quick tests: tempo 9, no rate limits, commit-reveal off.
pub(crate) fn quick() -> Hyperparams {
    Hyperparams {
        tempo: 9,
        weights_rate_limit: 0,
        commit_reveal_enabled: false,
        immunity_period: 0,
        serving_rate_limit: 0,
        ..Hyperparams::default()
    }
}

/// A chain served on `127.0.0.1:0` in manual block mode, with its client.
pub(crate) struct Net {
    pub(crate) chain: Arc<Localnet>,
    pub(crate) client: Client,
    pub(crate) address: SocketAddr,
    pub(crate) db: PathBuf,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Net {
    pub(crate) async fn start(genesis: &Genesis) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chain.sqlite");
        let chain = Arc::new(Localnet::init(&db, genesis).await.unwrap());
        Net::serve(chain, db, dir).await
    }

    async fn serve(chain: Arc<Localnet>, db: PathBuf, dir: tempfile::TempDir) -> Net {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = localnet::router(Arc::new(ServerState::new(Arc::clone(&chain))));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        let client = Client::new(&format!("http://{address}")).unwrap();
        Net { chain, client, address, db, _dir: dir, stop: Some(stop), server: Some(server) }
    }

    /// Stops the server, drops the chain, opens the same file again and serves it.
    pub(crate) async fn restart(mut self) -> Net {
        self.shutdown().await;
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().unwrap());
        let db = self.db.clone();
        drop(self);
        let chain = Arc::new(Localnet::open(&db).await.unwrap());
        Net::serve(chain, db, dir).await
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }

    /// Produces `count` blocks through the signed sudo call.
    pub(crate) async fn advance(&self, count: u64) -> u64 {
        self.client.advance_blocks(&sudo(), count).await.unwrap()
    }

    /// Registers `hotkey` paid by `coldkey` on subnet 1.
    pub(crate) async fn register(&self, coldkey: &Keypair, hotkey: &Keypair) -> u16 {
        chain::Chain::register(&self.client, coldkey, 1, &hotkey.account()).await.unwrap()
    }
}
