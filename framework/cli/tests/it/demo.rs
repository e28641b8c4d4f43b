//! `subnetkit demo` end to end: the embedded chain, the reference plugins, honest and adversarial
//! miners, one validator; every honest miner must out-earn every adversary.
//!
//! It runs the image and price subnets. The text subnet is left out: SmolLM2-135M's answers score
//! 0 under the text plugin as often as the adversaries' do (see docs/validator.md, "Demo").

use std::collections::BTreeMap;

use crate::subnetkit;

#[test]
fn honest_miners_out_earn_every_adversary_in_every_subnet() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let table = scratch.path().join("table.json");
    let output = std::process::Command::new(subnetkit().get_program())
        .args(["demo", "--subnets", "image-aesthetics,price-prediction", "--epochs", "16", "--json"])
        .arg(&table)
        .output()
        .expect("subnetkit demo starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("epoch 16/16"), "progress is shown:\n{stdout}");

    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&table).expect("the table is written")).expect("JSON");
    let mut by_subnet: BTreeMap<String, Vec<&serde_json::Value>> = BTreeMap::new();
    for row in &rows {
        for field in ["subnet", "uid", "hotkey", "strategy", "incentive", "emission"] {
            assert!(row.get(field).is_some(), "{field} missing in {row}");
        }
        by_subnet.entry(row["subnet"].as_str().expect("subnet").to_owned()).or_default().push(row);
    }
    assert_eq!(by_subnet.len(), 2, "{stdout}");
    for (subnet, rows) in by_subnet {
        let incentive = |row: &&serde_json::Value| row["incentive"].as_u64().expect("incentive");
        let honest: Vec<u64> = rows.iter().filter(|row| row["strategy"] == "honest").map(incentive).collect();
        let adversaries: Vec<(&str, u64)> = rows
            .iter()
            .filter(|row| row["strategy"] != "honest")
            .map(|row| (row["strategy"].as_str().expect("strategy"), incentive(row)))
            .collect();
        assert_eq!(honest.len(), 3, "{subnet}");
        assert_eq!(adversaries.len(), 7, "{subnet}");
        let weakest = honest.iter().copied().min().expect("honest miners");
        for (strategy, earned) in adversaries {
            assert!(
                weakest > earned,
                "{subnet}: {strategy} earned {earned}, the weakest honest miner {weakest}\n{stdout}"
            );
        }
    }
}
