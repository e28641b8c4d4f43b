//! The embedded local chain: subtensor's rules where a subnet meets them, on SQLite.
//!
//! [`Localnet`] keeps a chain in one SQLite file: accounts, subnets with their
//! hyperparameters, burned registration with pruning when a subnet is full, axons, stake, every
//! `set_weights` check of the chain, commit-reveal v2, and at each tempo the epoch through
//! [`yuma`] on the stored state, with emission paid into stake. Every call and every block is
//! one transaction, so a killed process restarts at its last committed block.
//!
//! [`router`] serves it over HTTP (JSON reads; one `btauth/1`-signed endpoint for calls, so a
//! call acts only for the key that signed it), [`produce_blocks`] advances it on a timer, and
//! [`Client`] implements [`chain::Chain`] against a running server.

mod client;
mod genesis;
mod rules;
mod server;
mod state;

pub use client::Client;
pub use genesis::{DEFAULT_EMISSION_PER_BLOCK, Genesis, GenesisAccount, GenesisError, GenesisSubnet};
pub use server::{Info, ServerState, produce_blocks, router, status_of};
pub use state::{Call, EpochRecord, Issuance, Localnet, MAX_ADVANCE, OpenError, Origin, Receipt};
