//! Renders the templates in `templates/` (embedded in the binary) into new crates.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};

/// The plugin template's files: path in the new crate, and content with placeholders.
const PLUGIN_FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../../../templates/plugin/content/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("../../../templates/plugin/content/src/lib.rs.tmpl")),
    ("samples/batch.json", include_str!("../../../templates/plugin/content/samples/batch.json.tmpl")),
    ("README.md", include_str!("../../../templates/plugin/content/README.md.tmpl")),
    (".gitignore", include_str!("../../../templates/plugin/content/.gitignore")),
];

/// Where the guest SDK was when this binary was built.
const BUILT_SDK_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk-guest");

/// Renders the plugin template for mechanism `name` into `dir` (default `./name`); returns the
/// crate's directory. Refuses a name cargo would not take and a directory that is not empty.
pub(crate) fn render_plugin(name: &str, dir: Option<&Path>, sdk: Option<&Path>) -> anyhow::Result<PathBuf> {
    check_name(name)?;
    let sdk = sdk.unwrap_or(Path::new(BUILT_SDK_PATH));
    let sdk = sdk.canonicalize().with_context(|| {
        format!(
            "cannot find the subnetkit guest SDK at {} (pass --sdk PATH to its `sdk-guest` directory)",
            sdk.display()
        )
    })?;
    ensure!(sdk.join("Cargo.toml").is_file(), "{}: not the guest SDK (no Cargo.toml)", sdk.display());
    let sdk_path = sdk.to_str().with_context(|| format!("{}: the SDK path is not UTF-8", sdk.display()))?;

    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(&dir).with_context(|| format!("{}: cannot read the directory", dir.display()))?;
        ensure!(entries.next().is_none(), "{}: the directory exists and is not empty", dir.display());
    }
    let type_name = camel_case(name);
    for (path, content) in PLUGIN_FILES {
        let text =
            content.replace("{{name}}", name).replace("{{type_name}}", &type_name).replace("{{sdk_path}}", sdk_path);
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, text).with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(dir)
}

/// A mechanism name: a lowercase letter, then lowercase letters, digits and single dashes.
fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !valid {
        bail!("invalid plugin name `{name}`: use a lowercase letter, then lowercase letters, digits and single dashes");
    }
    Ok(())
}

/// `my-subnet` → `MySubnet`.
fn camel_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{camel_case, check_name};

    #[test]
    fn names() {
        assert_eq!(camel_case("my-subnet-2"), "MySubnet2");
        assert!(check_name("price-prediction").is_ok());
        for bad in ["", "My", "1a", "a--b", "a-", "a_b", "a b", &"a".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
    }
}
