//! [`Accounts`] on both backends. The SQL is the same text for both
//! (`$n` parameters, which SQLite reads by position too), so it is written
//! once and expanded for each pool type.

use sqlx::Row;

use crate::{Accounts, ApiToken, PgStore, Session, SqliteStore, StoreError, User};

fn user_from<R: Row>(r: &R) -> Result<User, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(User {
        name: r.try_get("name")?,
        role: r.try_get("role")?,
        password_hash: r.try_get("password_hash")?,
        created_at_ms: r.try_get("created_at_ms")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
    })
}

fn token_from<R: Row>(r: &R) -> Result<ApiToken, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ApiToken {
        id: r.try_get("id")?,
        user: r.try_get("username")?,
        label: r.try_get("label")?,
        digest: r.try_get("digest")?,
        scope: r.try_get("scope")?,
        created_at_ms: r.try_get("created_at_ms")?,
        expires_at_ms: r.try_get("expires_at_ms")?,
        revoked_at_ms: r.try_get("revoked_at_ms")?,
        last_used_ms: r.try_get("last_used_ms")?,
    })
}

/// A unique-key violation means the name is taken.
fn exists(e: sqlx::Error, what: String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Exists(what),
        _ => StoreError::Db(e),
    }
}

macro_rules! accounts_for {
    ($store:ty) => {
        impl Accounts for $store {
            async fn add_user(&self, u: &User) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO users (name, role, password_hash, created_at_ms, disabled) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&u.name)
                .bind(&u.role)
                .bind(&u.password_hash)
                .bind(u.created_at_ms)
                .bind(i64::from(u.disabled))
                .execute(&self.pool)
                .await
                .map_err(|e| exists(e, format!("the account \"{}\"", u.name)))?;
                Ok(())
            }

            async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
                let row = sqlx::query("SELECT * FROM users WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(user_from).transpose()
            }

            async fn users(&self) -> Result<Vec<User>, StoreError> {
                let rows = sqlx::query("SELECT * FROM users ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(user_from).collect()
            }

            async fn update_user(&self, u: &User) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE users SET role = $1, password_hash = $2, disabled = $3 WHERE name = $4",
                )
                .bind(&u.role)
                .bind(&u.password_hash)
                .bind(i64::from(u.disabled))
                .bind(&u.name)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn add_token(&self, t: &ApiToken) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, username, label, digest, scope, created_at_ms, \
                     expires_at_ms, revoked_at_ms, last_used_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&t.id)
                .bind(&t.user)
                .bind(&t.label)
                .bind(&t.digest)
                .bind(&t.scope)
                .bind(t.created_at_ms)
                .bind(t.expires_at_ms)
                .bind(t.revoked_at_ms)
                .bind(t.last_used_ms)
                .execute(&self.pool)
                .await
                .map_err(|e| exists(e, format!("a token with id {}", t.id)))?;
                Ok(())
            }

            async fn token_by_digest(&self, digest: &str) -> Result<Option<ApiToken>, StoreError> {
                let row = sqlx::query("SELECT * FROM api_tokens WHERE digest = $1")
                    .bind(digest)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(token_from).transpose()
            }

            async fn tokens(&self, user: &str) -> Result<Vec<ApiToken>, StoreError> {
                let rows = sqlx::query(
                    "SELECT * FROM api_tokens WHERE username = $1 ORDER BY created_at_ms DESC, id",
                )
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(token_from).collect()
            }

            async fn revoke_token(
                &self,
                user: &str,
                id: &str,
                at_ms: i64,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at_ms = COALESCE(revoked_at_ms, $1) \
                     WHERE id = $2 AND username = $3",
                )
                .bind(at_ms)
                .bind(id)
                .bind(user)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn touch_token(&self, id: &str, at_ms: i64) -> Result<(), StoreError> {
                sqlx::query("UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2")
                    .bind(at_ms)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn token_and_user(
                &self,
                digest: &str,
            ) -> Result<Option<(ApiToken, User)>, StoreError> {
                let row = sqlx::query(
                    "SELECT t.*, u.name AS u_name, u.role AS u_role, u.password_hash AS u_hash, \
                     u.created_at_ms AS u_created, u.disabled AS u_disabled \
                     FROM api_tokens t JOIN users u ON u.name = t.username WHERE t.digest = $1",
                )
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?;
                let Some(r) = row else { return Ok(None) };
                Ok(Some((
                    token_from(&r)?,
                    User {
                        name: r.try_get("u_name")?,
                        role: r.try_get("u_role")?,
                        password_hash: r.try_get("u_hash")?,
                        created_at_ms: r.try_get("u_created")?,
                        disabled: r.try_get::<i64, _>("u_disabled")? != 0,
                    },
                )))
            }

            async fn session_and_user(
                &self,
                digest: &str,
            ) -> Result<Option<(Session, User)>, StoreError> {
                let row = sqlx::query(
                    "SELECT s.digest, s.csrf, s.created_at_ms AS s_created, s.expires_at_ms, \
                     u.name, u.role, u.password_hash, u.created_at_ms, u.disabled \
                     FROM sessions s JOIN users u ON u.name = s.username WHERE s.digest = $1",
                )
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?;
                let Some(r) = row else { return Ok(None) };
                let user = user_from(&r)?;
                Ok(Some((
                    Session {
                        digest: r.try_get("digest")?,
                        user: user.name.clone(),
                        csrf: r.try_get("csrf")?,
                        created_at_ms: r.try_get("s_created")?,
                        expires_at_ms: r.try_get("expires_at_ms")?,
                    },
                    user,
                )))
            }

            async fn add_session(&self, s: &Session) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO sessions (digest, username, csrf, created_at_ms, expires_at_ms) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&s.digest)
                .bind(&s.user)
                .bind(&s.csrf)
                .bind(s.created_at_ms)
                .bind(s.expires_at_ms)
                .execute(&self.pool)
                .await?;
                // Expired sessions go whenever a new one starts.
                sqlx::query("DELETE FROM sessions WHERE expires_at_ms < $1")
                    .bind(s.created_at_ms)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn session(&self, digest: &str) -> Result<Option<Session>, StoreError> {
                let row = sqlx::query("SELECT * FROM sessions WHERE digest = $1")
                    .bind(digest)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row {
                    Some(r) => Some(Session {
                        digest: r.try_get("digest")?,
                        user: r.try_get("username")?,
                        csrf: r.try_get("csrf")?,
                        created_at_ms: r.try_get("created_at_ms")?,
                        expires_at_ms: r.try_get("expires_at_ms")?,
                    }),
                    None => None,
                })
            }

            async fn delete_session(&self, digest: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM sessions WHERE digest = $1")
                    .bind(digest)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}

accounts_for!(SqliteStore);
accounts_for!(PgStore);
