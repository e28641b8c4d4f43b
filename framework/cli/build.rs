//! Embeds the miner templates (`templates/miner-*`) in the binary for `subnetkit miner new`:
//! writes `OUT_DIR/miner_templates.rs` with `fn template_files(dir) -> Option<&[(path, bytes)]>`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    // Read at run time: a build script compiled for another checkout must not read that one's files.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for build scripts");
    let root = Path::new(&manifest_dir).join("../../templates");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("templates/ is readable")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.is_dir() && path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("miner-"))
        })
        .collect();
    dirs.sort();
    let mut code = String::from(
        "/// The files of template crate `dir` (e.g. `miner-price-prediction`): relative path and bytes.\n",
    );
    code.push_str("pub(crate) fn template_files(dir: &str) -> Option<&'static [(&'static str, &'static [u8])]> {\n    match dir {\n");
    for dir in &dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).expect("UTF-8 name");
        let mut files = Vec::new();
        collect(dir, dir, &mut files);
        files.sort();
        writeln!(code, "        {name:?} => Some(&[").expect("write");
        for (relative, absolute) in files {
            println!("cargo:rerun-if-changed={}", absolute.display());
            writeln!(code, "            ({relative:?}, include_bytes!({:?})),", absolute.display().to_string())
                .expect("write");
        }
        code.push_str("        ]),\n");
    }
    code.push_str("        _ => None,\n    }\n}\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("miner_templates.rs");
    std::fs::write(out, code).expect("write miner_templates.rs");
}

/// Largest file embedded: a template is source and small fixtures; anything bigger (a downloaded
/// model, say) is left out with a warning rather than baked into the binary.
const MAX_FILE_BYTES: u64 = 2 << 20;

/// Files under `dir`, skipping build output, lock files, hidden files other than `.gitignore`,
/// and files over [`MAX_FILE_BYTES`].
fn collect(base: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    for entry in std::fs::read_dir(dir).expect("template directory is readable").flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "target" || name == "Cargo.lock" || (name.starts_with('.') && name != ".gitignore") {
            continue;
        }
        if path.is_dir() {
            collect(base, &path, files);
        } else if entry.metadata().map_or(true, |m| m.len() > MAX_FILE_BYTES) {
            println!(
                "cargo:warning=not embedding {} in `subnetkit miner new`: over {MAX_FILE_BYTES} bytes",
                path.display()
            );
        } else {
            let relative = path.strip_prefix(base).expect("under base").to_string_lossy().replace('\\', "/");
            files.push((relative, path));
        }
    }
}
