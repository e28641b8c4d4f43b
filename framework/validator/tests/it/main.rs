//! The validator end to end. Every store case runs twice: on a fresh SQLite file in a temporary
//! directory, and on a fresh database of the PostgreSQL server at `SUBNETKIT_TEST_POSTGRES`
//! (default [`DEFAULT_POSTGRES`], which `scripts/setup.sh` provides), created for the test and
//! dropped after it, so tests run in parallel. An unreachable server fails the test.
//!
//! The runner cases (`runner`, `faults`, `reload`, `restart`) run rounds against a real local chain, real
//! miner servers on 127.0.0.2 and the test plugins built from source (`net` sets them up).

mod faults;
mod net;
mod reload;
mod restart;
mod runner;
mod store;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};
use tempfile::TempDir;
use validator::Store;

/// The server `scripts/setup.sh` sets up.
const DEFAULT_POSTGRES: &str = "postgres://subnetkit:subnetkit@127.0.0.1:5432/subnetkit_test";

/// Which database a case runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A database of a test's own; a PostgreSQL one is dropped when this is.
pub(crate) struct TestDb {
    backend: Backend,
    url: String,
    _dir: Option<TempDir>,
    _postgres: Option<Dropper>,
}

impl TestDb {
    pub(crate) async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("validator.db").display());
                TestDb { backend, url, _dir: Some(dir), _postgres: None }
            }
            Backend::Postgres => {
                let admin = std::env::var("SUBNETKIT_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
                let name = unique_name();
                let mut connection = admin_connection(&admin).await;
                sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                    .execute(&mut connection)
                    .await
                    .unwrap_or_else(|error| panic!("cannot create database {name} on {admin}: {error}"));
                let _ = connection.close().await;
                let url = with_database(&admin, &name);
                TestDb { backend, url, _dir: None, _postgres: Some(Dropper { admin, name }) }
            }
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A store on this database (migrated).
    pub(crate) async fn store(&self) -> Store {
        Store::connect(&self.url).await.unwrap_or_else(|error| panic!("cannot open {}: {error}", self.url))
    }
}

async fn admin_connection(admin: &str) -> PgConnection {
    PgConnection::connect(admin).await.unwrap_or_else(|error| {
        panic!(
            "PostgreSQL at {admin} is unreachable ({error}): run scripts/setup.sh (its PostgreSQL part alone: \
             scripts/setup-postgres.sh), or point SUBNETKIT_TEST_POSTGRES at a server where the user may CREATE DATABASE"
        )
    })
}

/// Drops the test's PostgreSQL database, also after a failed assertion.
struct Dropper {
    admin: String,
    name: String,
}

impl Drop for Dropper {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async {
                let mut connection = PgConnection::connect(&admin).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut connection).await?;
                connection.close().await
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("cannot drop test database {}: {error}", self.name);
        }
    }
}

/// A database name no other test (in this or another process) uses.
fn unique_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.subsec_nanos()).unwrap_or_default();
    format!("subnetkit_it_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let (server, _) = base.rsplit_once('/').expect("a PostgreSQL URL ends in /DATABASE");
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Runs each named `async fn(&TestDb)` once on SQLite and once on PostgreSQL: tests
/// `NAME::sqlite` and `NAME::postgres`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = crate::TestDb::new(crate::Backend::Sqlite).await;
                    super::$name(&db).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let db = crate::TestDb::new(crate::Backend::Postgres).await;
                    super::$name(&db).await;
                }
            }
        )*
    };
}
pub(crate) use on_both;
