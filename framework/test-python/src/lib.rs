//! For tests and benchmarks that compare with the Python stack: finds the interpreter with the
//! Bittensor SDK (`bittensor==11.3.0`) that `scripts/setup-python.sh` installs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// The first interpreter that runs `imports` (Python code, e.g. `from bittensor import
/// http_auth`) without error, of: `$SUBNETKIT_PYTHON`, `$SUBNETKIT_PY_VENV/bin/python`, and
/// `target/py-interop/bin/python` under the workspace root. The error says what was tried and
/// how to fix it.
pub fn find_python(imports: &str) -> Result<PathBuf, String> {
    let mut candidates = Vec::new();
    if let Some(python) = std::env::var_os("SUBNETKIT_PYTHON") {
        candidates.push(PathBuf::from(python));
    }
    if let Some(venv) = std::env::var_os("SUBNETKIT_PY_VENV") {
        candidates.push(PathBuf::from(venv).join("bin/python"));
    }
    candidates.push(workspace_root().join("target/py-interop/bin/python"));

    let mut tried = Vec::new();
    for python in candidates {
        let imported = Command::new(&python)
            .args(["-c", imports])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        match imported {
            Ok(output) if output.status.success() => return Ok(python),
            Ok(output) => tried.push(format!(
                "{}: `{imports}` failed ({})",
                python.display(),
                String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("no error output")
            )),
            Err(error) => tried.push(format!("{}: {error}", python.display())),
        }
    }
    Err(format!(
        "no Python with the Bittensor SDK (bittensor==11.3.0) was found; run `scripts/setup-python.sh` \
         (or set SUBNETKIT_PYTHON to such an interpreter). Tried:\n  {}",
        tried.join("\n  ")
    ))
}
