//! The genesis file `subnetkit localnet init` reads: sudo key, funded coldkeys, subnets.

use std::collections::HashSet;

use chain::{AccountId, ChainError, Hyperparams, NetUid};
use serde::Deserialize;

/// Emission per block and subnet when the genesis does not say: 1 alpha, as on a young subnet.
pub const DEFAULT_EMISSION_PER_BLOCK: u64 = 1_000_000_000;

/// A local chain's initial state, read from TOML.
///
/// ```toml
/// sudo = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
///
/// [[accounts]]
/// coldkey = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
/// balance = 1_000_000_000_000
///
/// [[subnets]]
/// netuid = 1
/// owner_coldkey = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
/// owner_hotkey = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
/// hyperparams = { tempo = 99, commit_reveal_enabled = false }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The key that may fund accounts, advance blocks in manual mode and change any subnet.
    pub sudo: AccountId,
    /// Coldkeys funded at genesis.
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    /// Subnets created at genesis; each owner hotkey is registered as uid 0.
    #[serde(default)]
    pub subnets: Vec<GenesisSubnet>,
}

/// A coldkey funded at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// The coldkey.
    pub coldkey: AccountId,
    /// Its free balance, in rao.
    pub balance: u64,
}

/// A subnet created at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSubnet {
    /// Its id; 0 is the root network and not a subnet here.
    pub netuid: NetUid,
    /// The coldkey that owns it (may change its hyperparameters).
    pub owner_coldkey: AccountId,
    /// The owner's hotkey, registered as uid 0.
    pub owner_hotkey: AccountId,
    /// Alpha, in rao, the subnet emits each block.
    #[serde(default = "default_emission")]
    pub emission_per_block: u64,
    /// Hyperparameters; unset ones take the chain's defaults.
    #[serde(default)]
    pub hyperparams: Hyperparams,
}

fn default_emission() -> u64 {
    DEFAULT_EMISSION_PER_BLOCK
}

/// Why a genesis file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenesisError {
    /// Not valid TOML, or a field of the wrong type or name (the message has line and key).
    #[error("{0}")]
    Parse(#[from] toml::de::Error),
    /// Parsed, but breaks a rule.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field, e.g. `subnets[1].netuid`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl Genesis {
    /// Parses and checks a genesis file's text.
    pub fn from_toml(text: &str) -> Result<Genesis, GenesisError> {
        let genesis: Genesis = toml::from_str(text)?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// Checks what types alone cannot: unique coldkeys and netuids, no root subnet, sane
    /// hyperparameters, a total supply that fits the chain's arithmetic.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let mut coldkeys = HashSet::new();
        let mut supply: u128 = 0;
        for (index, account) in self.accounts.iter().enumerate() {
            if !coldkeys.insert(account.coldkey) {
                return Err(invalid(
                    format!("accounts[{index}].coldkey"),
                    format!("{} is listed twice", account.coldkey),
                ));
            }
            supply += u128::from(account.balance);
        }
        if supply >= 1 << 62 {
            return Err(invalid("accounts", "total balance must stay below 2^62 rao"));
        }
        let mut netuids = HashSet::new();
        for (index, subnet) in self.subnets.iter().enumerate() {
            if subnet.netuid == 0 {
                return Err(invalid(format!("subnets[{index}].netuid"), "0 is the root network"));
            }
            if !netuids.insert(subnet.netuid) {
                return Err(invalid(
                    format!("subnets[{index}].netuid"),
                    format!("subnet {} is listed twice", subnet.netuid),
                ));
            }
            if subnet.emission_per_block > 1 << 40 {
                return Err(invalid(format!("subnets[{index}].emission_per_block"), "at most 2^40 rao per block"));
            }
            check_hyperparams(&subnet.hyperparams).map_err(|error| match error {
                ChainError::Invalid { field, message } => {
                    invalid(format!("subnets[{index}].hyperparams.{field}"), message)
                }
                other => invalid(format!("subnets[{index}].hyperparams"), other.to_string()),
            })?;
        }
        Ok(())
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> GenesisError {
    GenesisError::Invalid { field: field.into(), message: message.into() }
}

/// Hyperparameters the local chain can run: the ranges the chain's admin calls enforce.
pub(crate) fn check_hyperparams(params: &Hyperparams) -> Result<(), ChainError> {
    let bad =
        |field: &str, message: &str| Err(ChainError::Invalid { field: field.to_owned(), message: message.to_owned() });
    if params.tempo == 0 {
        return bad("tempo", "must be at least 1");
    }
    if params.tempo == u16::MAX {
        return bad("tempo", "must be below 65535");
    }
    if params.max_allowed_uids == 0 {
        return bad("max_allowed_uids", "must be at least 1");
    }
    if params.max_allowed_validators == 0 {
        return bad("max_allowed_validators", "must be at least 1");
    }
    if params.commit_reveal_period == 0 || params.commit_reveal_period > 100 {
        return bad("commit_reveal_period", "must be between 1 and 100 epochs");
    }
    if params.bonds_moving_average > 1_000_000 {
        return bad("bonds_moving_average", "is per million, at most 1000000");
    }
    if params.alpha_low > params.alpha_high {
        return bad("alpha_low", "must not exceed alpha_high");
    }
    if params.burn > 1 << 62 {
        return bad("burn", "must stay below 2^62 rao");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    fn text(subnets: &str) -> String {
        format!("sudo = \"{ALICE}\"\n[[accounts]]\ncoldkey = \"{ALICE}\"\nbalance = 5\n{subnets}")
    }

    #[test]
    fn reads_the_documented_shape_with_defaults() {
        let subnet = format!(
            "[[subnets]]\nnetuid = 3\nowner_coldkey = \"{ALICE}\"\nowner_hotkey = \"{BOB}\"\nhyperparams = {{ tempo = 9 }}\n"
        );
        let genesis = Genesis::from_toml(&text(&subnet)).unwrap();
        assert_eq!(genesis.accounts[0].balance, 5);
        let subnet = &genesis.subnets[0];
        assert_eq!((subnet.netuid, subnet.hyperparams.tempo), (3, 9));
        assert_eq!(subnet.emission_per_block, DEFAULT_EMISSION_PER_BLOCK);
        assert_eq!(subnet.hyperparams.weights_rate_limit, Hyperparams::default().weights_rate_limit);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                format!("[[subnets]]\nnetuid = 0\nowner_coldkey = \"{ALICE}\"\nowner_hotkey = \"{BOB}\"\n"),
                "subnets[0].netuid",
            ),
            (
                format!(
                    "[[subnets]]\nnetuid = 1\nowner_coldkey = \"{ALICE}\"\nowner_hotkey = \"{BOB}\"\nhyperparams = {{ tempo = 0 }}\n"
                ),
                "subnets[0].hyperparams.tempo",
            ),
            (
                format!(
                    "[[subnets]]\nnetuid = 1\nowner_coldkey = \"{ALICE}\"\nowner_hotkey = \"{BOB}\"\nhyperparams = {{ tempoo = 3 }}\n"
                ),
                "tempoo",
            ),
            (
                format!("[[subnets]]\nnetuid = 1\nowner_coldkey = \"nonsense\"\nowner_hotkey = \"{BOB}\"\n"),
                "owner_coldkey",
            ),
            (format!("[[accounts]]\ncoldkey = \"{ALICE}\"\nbalance = 1\n"), "accounts[1].coldkey"),
        ];
        for (subnets, field) in cases {
            let error = Genesis::from_toml(&text(&subnets)).unwrap_err().to_string();
            assert!(error.contains(field), "{field}: {error}");
        }
    }
}
