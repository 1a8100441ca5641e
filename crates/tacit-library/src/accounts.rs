//! Accounts, API tokens and roles: what the team server (and its MCP
//! endpoint) checks before doing anything.
//!
//! - Passwords are argon2id PHC strings.
//! - An API token is `tacit_` and 64 hex digits (244 random bits); only
//!   its SHA-256 digest is stored, so a stolen database holds no usable
//!   token. Tokens are scoped (the highest role they act with), may expire
//!   and can be revoked.
//! - Roles are ordered: a viewer reads; an operator also records and runs;
//!   an owner also reviews the SOPs they or their team own; an admin also
//!   manages accounts and teams, and may review anything.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tacit_store::{Accounts, ApiToken, Session, Store, StoreError, User};

use crate::{LibraryError, Result};

/// What an account may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Owner,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Owner, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Owner => "owner",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text.trim())
            .ok_or_else(|| {
                LibraryError::Invalid(format!(
                    "\"{text}\" is not a role: use viewer, operator, owner or admin"
                ))
            })
    }
}

/// Who is asking, and with what role (the token's scope caps the user's).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Caller {
    pub user: String,
    pub role: Role,
    /// The token used, if any (a browser session has none).
    pub token_id: Option<String>,
}

/// Why a request was not let in. Deliberately vague towards the caller:
/// which of these it was is for the server's log, not the response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no such token")]
    Unknown,
    #[error("the token was revoked")]
    Revoked,
    #[error("the token expired")]
    Expired,
    #[error("the account is disabled")]
    Disabled,
    #[error("wrong name or password")]
    BadPassword,
}

const TOKEN_PREFIX: &str = "tacit_";

/// The SHA-256 digest of a token's secret, as stored.
pub fn token_digest(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh token secret.
pub fn new_token_secret() -> String {
    format!(
        "{TOKEN_PREFIX}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| LibraryError::Invalid(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches a stored argon2 hash.
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// An account name: 1–64 of `a-z 0-9 . _ -`, starting with a letter or
/// digit (it appears in URLs, logs and SOP owners).
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(LibraryError::Invalid(format!(
            "\"{name}\" is not an account name: use 1-64 of a-z, 0-9, '.', '_' and '-'"
        )))
    }
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 10 {
        return Err(LibraryError::Invalid(
            "a password needs at least 10 characters".into(),
        ));
    }
    if password.len() > 1024 {
        return Err(LibraryError::Invalid(
            "a password may have at most 1024 bytes".into(),
        ));
    }
    Ok(())
}

/// Creates an account.
pub async fn create_user<S: Accounts>(
    store: &S,
    name: &str,
    role: Role,
    password: Option<&str>,
) -> Result<User> {
    check_name(name)?;
    let password_hash = match password {
        Some(p) => {
            check_password(p)?;
            Some(hash_password(p)?)
        }
        None => None,
    };
    let user = User {
        name: name.to_string(),
        role: role.as_str().to_string(),
        password_hash,
        created_at_ms: tacit_core::now_ms(),
        disabled: false,
    };
    store.add_user(&user).await?;
    Ok(user)
}

/// A token just minted: the secret is shown once and never stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub secret: String,
    pub token: ApiToken,
}

/// Mints a token for `user`. `scope` defaults to the user's role and may
/// not exceed it; `ttl_days` of `None` never expires.
pub async fn mint_token<S: Accounts>(
    store: &S,
    user: &str,
    label: &str,
    scope: Option<Role>,
    ttl_days: Option<u32>,
) -> Result<NewToken> {
    let account = store
        .user(user)
        .await?
        .ok_or_else(|| LibraryError::NotFound(format!("there is no account \"{user}\"")))?;
    let role = Role::parse(&account.role)?;
    let scope = scope.unwrap_or(role);
    if scope > role {
        return Err(LibraryError::Invalid(format!(
            "a token of {user} ({}) cannot have the {} scope",
            role.as_str(),
            scope.as_str()
        )));
    }
    if ttl_days == Some(0) {
        return Err(LibraryError::Invalid(
            "a token must live at least one day".into(),
        ));
    }
    let secret = new_token_secret();
    let now = tacit_core::now_ms();
    let token = ApiToken {
        id: uuid::Uuid::now_v7().simple().to_string(),
        user: user.to_string(),
        label: label.chars().take(200).collect(),
        digest: token_digest(&secret),
        scope: scope.as_str().to_string(),
        created_at_ms: now,
        expires_at_ms: ttl_days.map(|d| now + i64::from(d) * 86_400_000),
        revoked_at_ms: None,
        last_used_ms: None,
    };
    store.add_token(&token).await?;
    Ok(NewToken { secret, token })
}

/// Stores a token whose secret the operator chose (`TACIT_ADMIN_TOKEN` on
/// an unattended first start).
pub async fn adopt_token<S: Accounts>(
    store: &S,
    user: &str,
    label: &str,
    secret: &str,
) -> Result<ApiToken> {
    if secret.trim().len() < 20 {
        return Err(LibraryError::Invalid(
            "a token needs at least 20 characters".into(),
        ));
    }
    let account = store
        .user(user)
        .await?
        .ok_or_else(|| LibraryError::NotFound(format!("there is no account \"{user}\"")))?;
    let token = ApiToken {
        id: uuid::Uuid::now_v7().simple().to_string(),
        user: user.to_string(),
        label: label.to_string(),
        digest: token_digest(secret.trim()),
        scope: account.role,
        created_at_ms: tacit_core::now_ms(),
        expires_at_ms: None,
        revoked_at_ms: None,
        last_used_ms: None,
    };
    store.add_token(&token).await?;
    Ok(token)
}

/// Who a bearer token belongs to, and with what role; `Ok(Err(_))` when
/// the token does not let anyone in.
pub async fn authenticate<S: Accounts>(
    store: &S,
    secret: &str,
    now_ms: i64,
) -> Result<std::result::Result<Caller, AuthError>> {
    let digest = token_digest(secret.trim());
    let Some((token, user)) = store.token_and_user(&digest).await? else {
        return Ok(Err(AuthError::Unknown));
    };
    // The lookup matched on the digest already; comparing again in constant
    // time keeps timing from saying anything if the lookup ever changes.
    if !bool::from(token.digest.as_bytes().ct_eq(digest.as_bytes())) {
        return Ok(Err(AuthError::Unknown));
    }
    if token.revoked_at_ms.is_some() {
        return Ok(Err(AuthError::Revoked));
    }
    if token.expires_at_ms.is_some_and(|at| at <= now_ms) {
        return Ok(Err(AuthError::Expired));
    }
    if user.disabled {
        return Ok(Err(AuthError::Disabled));
    }
    let role = Role::parse(&user.role)?.min(Role::parse(&token.scope)?);
    // "Last used" to the minute: a write on every request would make every
    // read a write.
    if token.last_used_ms.is_none_or(|at| now_ms - at > 60_000) {
        store.touch_token(&token.id, now_ms).await?;
    }
    Ok(Ok(Caller {
        user: user.name,
        role,
        token_id: Some(token.id),
    }))
}

/// Checks a name and password (for a browser login).
pub async fn login<S: Accounts>(
    store: &S,
    name: &str,
    password: &str,
) -> Result<std::result::Result<Caller, AuthError>> {
    let user = store.user(name).await?;
    let ok = match &user {
        Some(u) => u
            .password_hash
            .as_deref()
            .is_some_and(|h| verify_password(h, password)),
        None => {
            // Spend the same time as a real check, so a response's timing
            // does not say whether the account exists.
            let _ = verify_password(dummy_hash(), password);
            false
        }
    };
    match user {
        Some(u) if ok && !u.disabled => Ok(Ok(Caller {
            role: Role::parse(&u.role)?,
            user: u.name,
            token_id: None,
        })),
        Some(u) if ok && u.disabled => Ok(Err(AuthError::Disabled)),
        _ => Ok(Err(AuthError::BadPassword)),
    }
}

/// How long a browser session lasts.
pub const SESSION_DAYS: i64 = 7;

/// Starts a browser session for a caller who logged in; returns the
/// cookie's secret (only its digest is stored) and the session.
pub async fn start_session<S: Accounts>(store: &S, user: &str) -> Result<(String, Session)> {
    let secret = new_token_secret();
    let now = tacit_core::now_ms();
    let session = Session {
        digest: token_digest(&secret),
        user: user.to_string(),
        csrf: uuid::Uuid::new_v4().simple().to_string(),
        created_at_ms: now,
        expires_at_ms: now + SESSION_DAYS * 86_400_000,
    };
    store.add_session(&session).await?;
    Ok((secret, session))
}

/// The caller behind a session cookie, with the session (for its CSRF
/// token); `None` when the cookie is unknown, expired, or its account
/// disabled.
pub async fn session_caller<S: Accounts>(
    store: &S,
    secret: &str,
    now_ms: i64,
) -> Result<Option<(Caller, Session)>> {
    let Some((session, user)) = store.session_and_user(&token_digest(secret)).await? else {
        return Ok(None);
    };
    if session.expires_at_ms <= now_ms {
        store.delete_session(&session.digest).await?;
        return Ok(None);
    }
    if user.disabled {
        return Ok(None);
    }
    Ok(Some((
        Caller {
            role: Role::parse(&user.role)?,
            user: user.name,
            token_id: None,
        },
        session,
    )))
}

/// Whether a submitted form's CSRF token is the session's (constant time).
pub fn csrf_matches(session: &Session, submitted: &str) -> bool {
    session.csrf.len() == submitted.len()
        && bool::from(session.csrf.as_bytes().ct_eq(submitted.as_bytes()))
}

/// An argon2id hash of a random string, verified against when the account
/// does not exist.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_token_secret()).unwrap_or_default())
}

/// What [`bootstrap_admin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// There were accounts already: nothing changed.
    AlreadySetUp,
    /// The first admin was created; `secret` is a new token to show once
    /// (`None` when the operator gave the token).
    Created {
        user: String,
        secret: Option<String>,
    },
}

/// On first start (no account yet) creates the admin `name`, with the given
/// token secret (`TACIT_ADMIN_TOKEN`) or a fresh one, and optionally a
/// password. Never touches a server that has accounts.
pub async fn bootstrap_admin<S: Accounts>(
    store: &S,
    name: &str,
    token: Option<&str>,
    password: Option<&str>,
) -> Result<Bootstrap> {
    if !store.users().await?.is_empty() {
        return Ok(Bootstrap::AlreadySetUp);
    }
    match create_user(store, name, Role::Admin, password).await {
        Ok(_) => {}
        // Another instance created it at the same moment.
        Err(LibraryError::Store(StoreError::Exists(_))) => return Ok(Bootstrap::AlreadySetUp),
        Err(e) => return Err(e),
    }
    let secret = match token {
        Some(t) => {
            adopt_token(store, name, "first admin (TACIT_ADMIN_TOKEN)", t).await?;
            None
        }
        None => Some(
            mint_token(store, name, "first admin", None, None)
                .await?
                .secret,
        ),
    };
    Ok(Bootstrap::Created {
        user: name.to_string(),
        secret,
    })
}

/// Whether `caller` may review and approve `sop_owner`'s SOP: an admin
/// always; an owner when the SOP is theirs or their team's.
pub async fn may_review<S: Store>(
    store: &S,
    caller: &Caller,
    sop_owner: Option<&str>,
) -> Result<bool> {
    if caller.role == Role::Admin {
        return Ok(true);
    }
    if caller.role < Role::Owner {
        return Ok(false);
    }
    let Some(owner) = sop_owner else {
        return Ok(false);
    };
    if owner == caller.user {
        return Ok(true);
    }
    Ok(store
        .teams()
        .await?
        .iter()
        .any(|(team, members)| team == owner && members.contains(&caller.user)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterz"));
        assert!(!verify_password("not a hash", "x"));
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!verify_password(dummy_hash(), "anything"));
    }

    #[test]
    fn tokens_are_long_random_and_digested() {
        let a = new_token_secret();
        let b = new_token_secret();
        assert_ne!(a, b);
        assert!(a.starts_with("tacit_") && a.len() == 6 + 64, "{a}");
        assert_eq!(token_digest(&a).len(), 64);
        assert_ne!(token_digest(&a), token_digest(&b));
    }

    #[test]
    fn names_and_roles() {
        for ok in ["ann", "ops-bot", "a.b_c9"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "Ann", "-x", "a b", "ann\u{0}", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(Role::Viewer < Role::Operator && Role::Owner < Role::Admin);
        assert_eq!(Role::parse("owner").unwrap(), Role::Owner);
        assert!(Role::parse("root").is_err());
    }
}
