//! A fresh PostgreSQL database per test on the server the test command starts
//! (127.0.0.1:5432, trust auth; `PLATEFARM_TEST_POSTGRES` overrides the admin URL).

use sqlx::Connection;

pub struct Database {
    admin_url: String,
    url: String,
    name: String,
}

fn admin_url() -> String {
    std::env::var("PLATEFARM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

impl Database {
    /// Creates `pf_<pid>_<nanos>`; panics with set-up instructions if the server is not there.
    pub async fn create() -> Database {
        let admin_url = admin_url();
        let name = format!(
            "pf_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin_url} is needed (scripts/test.sh starts it): {e}")
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin_url.clone());
        Database {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database (closing other sessions first).
    pub async fn drop_now(self) {
        let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin_url).await else {
            return;
        };
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await;
    }
}

impl Database {
    /// Drops the database from a `Drop` (no runtime): through `psql`.
    pub fn drop_blocking(self) {
        let _ = std::process::Command::new("psql")
            .arg(&self.admin_url)
            .args([
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}
