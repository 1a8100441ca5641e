//! Test support shared by every crate whose tests run against both
//! backends: a PostgreSQL store in a schema of its own, so concurrent test
//! runs never see each other's rows.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::PgStore;

/// Where the tests' PostgreSQL is: `DATABASE_URL`, or this machine's.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A store in a fresh schema, dropped by [`TestPg::cleanup`].
pub struct TestPg {
    pub store: PgStore,
    pub url: String,
    pub schema: String,
}

impl TestPg {
    /// Drops the test's schema.
    pub async fn cleanup(self) {
        self.store.close().await;
        let _ = PgStore::drop_schema(&self.url, &self.schema).await;
    }
}

/// A PostgreSQL store for one test. When PostgreSQL does not answer, the
/// test fails if `CI=true` or `DATABASE_URL` was given (a missing service is
/// a failure there, never a skip); on a developer's machine without it the
/// PostgreSQL half is skipped with a note on stderr and `None` comes back.
pub async fn postgres() -> Option<TestPg> {
    static N: AtomicU32 = AtomicU32::new(0);
    let url = database_url();
    let now = tacit_core::now_ms();
    let schema = format!(
        "tacit_t_{now}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    match PgStore::open_in_schema(&url, &schema).await {
        Ok(store) => {
            sweep_stale(&url, now).await;
            Some(TestPg { store, url, schema })
        }
        Err(e) => {
            let required = std::env::var("CI").is_ok_and(|v| v == "true")
                || std::env::var("DATABASE_URL").is_ok();
            if required {
                panic!("PostgreSQL at {url} is required here (CI=true or DATABASE_URL set): {e}");
            }
            eprintln!("SKIPPED the PostgreSQL half: {url} does not answer ({e})");
            None
        }
    }
}

/// Drops test schemas left by runs that died more than an hour ago.
async fn sweep_stale(url: &str, now: i64) {
    use sqlx::{ConnectOptions, Connection, Row};
    use std::str::FromStr;
    let Ok(options) = sqlx::postgres::PgConnectOptions::from_str(url) else {
        return;
    };
    let Ok(mut conn) = options.connect().await else {
        return;
    };
    let rows = sqlx::query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tacit\\_t\\_%'")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String, _>(0) else {
            continue;
        };
        let born: Option<i64> = name
            .strip_prefix("tacit_t_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|ms| ms.parse().ok());
        if born.is_some_and(|b| now - b > 3_600_000) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
            )))
            .execute(&mut conn)
            .await;
        }
    }
    let _ = conn.close().await;
}

/// Runs each named `async fn(&S)` scenario against SQLite (in memory) and
/// PostgreSQL (a schema of its own): `both_backends!(scenario_a, scenario_b);`
/// in a test file that has `tokio` as a dev-dependency.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let store = $crate::SqliteStore::in_memory().await.unwrap();
                    super::$name(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(pg) = $crate::testing::postgres().await else {
                        return;
                    };
                    super::$name(&pg.store).await;
                    pg.cleanup().await;
                }
            )*
        }
    };
}
