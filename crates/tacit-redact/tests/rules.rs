//! Every rule, on a realistic value, alone and embedded in surrounding text;
//! then the false positives that must stay untouched.
//!
//! Test tokens are assembled at run time (`format!`, repeated filler) so this
//! file never contains a complete token literal that secret scanners would
//! flag.

use std::borrow::Cow;

use rstest::rstest;
use tacit_redact::{MARKER_PREFIX, Redactor, marker_regex};

/// Deterministic filler with upper, lower and digits, like real tokens.
fn mix(n: usize) -> String {
    "q7Rk2Xv9Lm4Tz8Wb3Nc6Hd1Fg5Jp0Ys"
        .chars()
        .cycle()
        .take(n)
        .collect()
}

fn hex(n: usize) -> String {
    "3f9a1c7e5b2d8064".chars().cycle().take(n).collect()
}

fn upper(n: usize) -> String {
    "Q3EGRQ7ZKXW5TN2D".chars().cycle().take(n).collect()
}

fn m(kind: &str) -> String {
    format!("{MARKER_PREFIX}{kind}]")
}

/// A value that redacts to exactly one marker of `kind`.
fn tok(kind: &str, secret: String) -> (String, String, String) {
    (secret.clone(), secret, m(kind))
}

/// `text` with `secret` inside; `expected` is the text with `secret` replaced
/// by the marker.
fn ctx(kind: &str, text: String, secret: &str) -> (String, String, String) {
    assert!(
        text.contains(secret),
        "bad test case: {secret:?} not in {text:?}"
    );
    let expected = text.replacen(secret, &m(kind), 1);
    (text, secret.to_string(), expected)
}

fn pem(label: &str) -> (String, String, String) {
    let body = mix(64);
    let text = format!(
        "{}{label} PRIVATE KEY-----\n{body}\n{}\n-----END {label} PRIVATE KEY-----",
        "-----BEGIN ",
        hex(40)
    );
    (text, body, m("private-key"))
}

fn aws_secret() -> String {
    format!("{}/{}+{}", mix(20), mix(9), upper(9))
}

macro_rules! table {
    ($( $name:ident : $kind:literal => $case:expr ;)*) => {
        /// Alone: exact output. Embedded between lines: exact output, so the
        /// surrounding text is untouched. Embedded inline: secret gone,
        /// marker present.
        #[rstest]
        $( #[case::$name($kind, $case)] )*
        fn redacts(#[case] kind: &str, #[case] case: (String, String, String)) {
            let (text, secret, expected) = case;
            let r = Redactor::builtin();
            let marker = m(kind);
            assert!(expected.contains(&marker));

            let out = r.redact(&text);
            assert_eq!(out, expected, "alone");
            assert!(!out.contains(&secret));

            let embedded = format!("before 1.4.2\n{text}\nafter 1.4.2");
            let out = r.redact(&embedded);
            assert_eq!(out, format!("before 1.4.2\n{expected}\nafter 1.4.2"), "between lines");

            let inline = format!("+ {text} ; echo ok");
            let out = r.redact(&inline);
            assert!(!out.contains(&secret), "inline: {out}");
            assert!(out.contains(&marker), "inline: {out}");
            assert!(out.starts_with("+ "), "inline: {out}");
        }

        fn tested_kinds() -> Vec<&'static str> {
            vec![$($kind),*]
        }
    };
}

table! {
    private_key_openssh: "private-key" => pem("OPENSSH");
    private_key_rsa: "private-key" => pem("RSA");
    private_key_encrypted: "private-key" => pem("ENCRYPTED");
    private_key_pgp: "private-key" => {
        let body = mix(70);
        (format!("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{body}\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----"),
         body, m("private-key"))
    };
    private_key_in_json: "private-key" => {
        let body = mix(64);
        (format!(r#"{{"pem": "-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n", "type": "x"}}"#),
         body,
         format!(r#"{{"pem": "{}\n", "type": "x"}}"#, m("private-key")))
    };
    aws_access_key: "aws-access-key" => tok("aws-access-key", format!("AKIA{}", upper(16)));
    aws_session_key: "aws-access-key" => tok("aws-access-key", format!("ASIA{}", upper(16)));
    aws_secret_ini: "aws-secret-key" => {
        let s = aws_secret();
        ctx("aws-secret-key", format!("aws_secret_access_key = {s}"), &s)
    };
    aws_secret_json: "aws-secret-key" => {
        let s = aws_secret();
        ctx("aws-secret-key", format!(r#"{{"SecretAccessKey": "{s}", "Expiration": "soon"}}"#), &s)
    };
    aws_secret_cli: "aws-secret-key" => {
        let s = aws_secret();
        ctx("aws-secret-key", format!("aws configure set aws_secret_access_key {s}"), &s)
    };
    github_classic: "github-token" => tok("github-token", format!("ghp_{}", mix(36)));
    github_oauth: "github-token" => tok("github-token", format!("gho_{}", mix(36)));
    github_user_to_server: "github-token" => tok("github-token", format!("ghu_{}", mix(36)));
    github_app: "github-token" => tok("github-token", format!("ghs_{}", mix(36)));
    github_refresh: "github-token" => tok("github-token", format!("ghr_{}", mix(76)));
    github_fine_grained: "github-token" => tok("github-token", format!("github_pat_{}_{}", mix(22), mix(59)));
    github_token_env: "github-token" => {
        let t = format!("ghp_{}", mix(36));
        ctx("github-token", format!("export GITHUB_TOKEN={t}"), &t)
    };
    github_in_remote_url: "github-token" => {
        let t = format!("ghs_{}", mix(36));
        ctx("github-token", format!("git push https://x-access-token:{t}@github.com/org/app.git"), &t)
    };
    gitlab_pat: "gitlab-token" => tok("gitlab-token", format!("glpat-{}", mix(20)));
    gitlab_runner: "gitlab-token" => tok("gitlab-token", format!("glrt-{}", mix(24)));
    gitlab_deploy: "gitlab-token" => tok("gitlab-token", format!("gldt-{}", mix(24)));
    slack_bot: "slack-token" => tok("slack-token", format!("xoxb-{}-{}-{}", "1234567890", "9876543210", mix(24)));
    slack_user: "slack-token" => tok("slack-token", format!("xoxp-{}-{}-{}", "1234567890", "9876543210", mix(32)));
    slack_app: "slack-token" => tok("slack-token", format!("xoxa-2-{}", mix(40)));
    slack_webhook: "slack-webhook" => {
        let p = format!("T{}/B{}/{}", upper(8), upper(10), mix(24));
        ctx("slack-webhook", format!("curl -X POST -d @msg.json https://hooks.slack.com/services/{p}"), &p)
    };
    stripe_live: "stripe-key" => tok("stripe-key", format!("sk_live_{}", mix(24)));
    stripe_test: "stripe-key" => tok("stripe-key", format!("sk_test_{}", mix(24)));
    stripe_restricted: "stripe-key" => tok("stripe-key", format!("rk_live_{}", mix(24)));
    npm: "npm-token" => tok("npm-token", format!("npm_{}", mix(36)));
    npm_in_npmrc: "npm-token" => {
        let t = format!("npm_{}", mix(36));
        ctx("npm-token", format!("//registry.npmjs.org/:_authToken={t}"), &t)
    };
    anthropic: "anthropic-key" => tok("anthropic-key", format!("sk-ant-api03-{}", mix(80)));
    openai_project: "openai-key" => tok("openai-key", format!("sk-proj-{}", mix(48)));
    openai_legacy: "openai-key" => tok("openai-key", format!("sk-{}T3BlbkFJ{}", mix(20), mix(20)));
    google_api_key: "google-api-key" => tok("google-api-key", format!("AIza{}", mix(35)));
    twilio: "twilio-api-key" => tok("twilio-api-key", format!("SK{}", hex(32)));
    sendgrid: "sendgrid-key" => tok("sendgrid-key", format!("SG.{}.{}", mix(22), mix(43)));
    heroku: "heroku-key" => tok("heroku-key", format!("HRKU-AA{}", mix(58)));
    pulumi: "pulumi-token" => tok("pulumi-token", format!("pul-{}", hex(40)));
    netlify: "netlify-token" => tok("netlify-token", format!("nfp_{}", mix(40)));
    pypi: "pypi-token" => tok("pypi-token", format!("pypi-AgEIcHlwaS5vcmc{}", mix(60)));
    docker_hub: "docker-hub-token" => tok("docker-hub-token", format!("dckr_pat_{}", mix(27)));
    digitalocean: "digitalocean-token" => tok("digitalocean-token", format!("dop_v1_{}", hex(64)));
    vault: "vault-token" => tok("vault-token", format!("hvs.{}", mix(90)));
    jwt: "jwt" => tok("jwt", format!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.{}", mix(43)));
    jwt_in_cookie: "jwt" => {
        let t = format!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.{}", mix(43));
        ctx("jwt", format!("curl -b session={t} https://app.example.com/me"), &t)
    };
    auth_bearer_header: "auth-header" => {
        let t = mix(32);
        ctx("auth-header", format!(r#"curl -H "Authorization: Bearer {t}" https://api.example.com/v1"#), &t)
    };
    auth_basic_header: "auth-header" => ctx("auth-header", "Authorization: Basic Ym9iOmh1bnRlcjI=".into(), "Ym9iOmh1bnRlcjI=");
    auth_bare_bearer: "auth-header" => {
        let t = mix(40);
        ctx("auth-header", format!("DEBUG sending request with Bearer {t}"), &t)
    };
    url_password: "url-password" => ctx("url-password", "git clone https://bob:hunter2@git.example.com/app.git".into(), "hunter2");
    url_password_no_user: "url-password" => ctx("url-password", "redis-cli -u redis://:s3cr3tpw@cache:6379/0 ping".into(), "s3cr3tpw");
    url_password_with_at: "url-password" => ctx("url-password", "psql postgres://app:p@ss@db.internal/app".into(), "p@ss");
    mysql_p: "password" => ctx("password", "mysql -u root -pS3cretPw app".into(), "S3cretPw");
    mysql_p_quoted: "password" => ctx("password", "mysqldump -u root -p'S3 cret' app".into(), "S3 cret");
    sshpass: "password" => ctx("password", "sshpass -p hunter2 ssh deploy@web1".into(), "hunter2");
    curl_user: "password" => ctx("password", "curl -u bob:hunter2 https://api.example.com".into(), "hunter2");
    redis_cli_a: "password" => ctx("password", "redis-cli -h cache -a hunter2 ping".into(), "hunter2");
    openssl_passin: "password" => ctx("password", "openssl rsa -in k.pem -passin pass:hunter2 -out k2.pem".into(), "hunter2");
    docker_login_p: "password" => ctx("password", "docker login -u bob -p hunter2 registry.example.com".into(), "hunter2");
    netrc_one_line: "password" => ctx("password", "machine github.com login bob password hunter2".into(), "hunter2");
    flag_password_space: "password" => ctx("password", "docker login -u bob --password hunter2 registry.example.com".into(), "hunter2");
    flag_password_eq: "password" => ctx("password", "psql --password=hunter2 -h db".into(), "hunter2");
    flag_api_key: "key" => ctx("key", "agent --api-key 9f8e7d6c5b4a --site eu".into(), "9f8e7d6c5b4a");
    flag_token: "token" => ctx("token", "vault login --token s3cr3t-tok".into(), "s3cr3t-tok");
    flag_client_secret: "secret" => ctx("secret", "az login --client-secret 'abc def' --tenant t".into(), "abc def");
    export_api_key: "key" => ctx("key", "export MY_API_KEY=abc123".into(), "abc123");
    db_password_quoted: "password" => ctx("password", r#"DB_PASSWORD="x y""#.into(), "x y");
    env_colon: "token" => ctx("token", "GITHUB_TOKEN: abc123".into(), "abc123");
    password_eq: "password" => ctx("password", "password=hunter2".into(), "hunter2");
    passwd_eq: "password" => ctx("password", "passwd=hunter2".into(), "hunter2");
    pwd_eq: "password" => ctx("password", "login?user=bob&pwd=hunter2".into(), "hunter2");
    token_eq: "token" => ctx("token", "token=abc123".into(), "abc123");
    secret_eq: "secret" => ctx("secret", "secret=abc123".into(), "abc123");
    api_key_eq: "key" => ctx("key", "api_key=abc123".into(), "abc123");
    apikey_upper: "key" => ctx("key", "APIKEY=abc123".into(), "abc123");
    key_alone: "key" => ctx("key", "KEY=abc123".into(), "abc123");
    query_token: "token" => ctx("token", "curl 'https://api.example.com/v1/items?token=abc123&page=2'".into(), "abc123");
    json_api_key: "key" => ctx("key", r#"{"apiKey": "abc123", "region": "eu"}"#.into(), "abc123");
    yaml_password: "password" => ctx("password", "  password: correct horse battery".into(), "correct horse battery");
    secret_key_single_quoted: "secret" => ctx("secret", "SECRET_KEY='abc def'".into(), "abc def");
    docker_env: "password" => ctx("password", "docker run -e POSTGRES_PASSWORD=pg123 postgres:16".into(), "pg123");
    connection_string: "password" => ctx("password", "Server=db;User Id=app;Password=hunter2;".into(), "hunter2");
    toml_spaces: "token" => ctx("token", r#"auth_token = "abc123""#.into(), "abc123");
    hugging_face: "vendor-token" => tok("vendor-token", format!("hf_{}", mix(34)));
    docker_auth: "auth" => ctx("auth", format!("\"auth\": \"{}\"", mix(28)), &mix(28));
    cookie_header: "cookie" => ctx("cookie", format!("Cookie: sid={}", mix(24)), &mix(24));
    presigned_s3: "url-signature" => ctx("url-signature", format!("https://b.s3.amazonaws.com/k?X-Amz-Expires=300&X-Amz-Signature={}", hex(64)), &hex(64));
    sentry_dsn: "url-token" => ctx("url-token", format!("SENTRY_DSN_URL https://{}@o12.ingest.sentry.io/34", hex(32)), &hex(32));
    discord_webhook: "webhook" => ctx("webhook", format!("curl -X POST https://discord.com/api/webhooks/123456/{}", mix(68)), &mix(68));
    age_key: "age-key" => ctx("age-key", format!("AGE-SECRET-KEY-1{}", upper(58)), &format!("AGE-SECRET-KEY-1{}", upper(58)));
    k8s_secret_data: "kubernetes-secret" => ctx(
        "kubernetes-secret",
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  db-url: {}\n", mix(40)),
        &mix(40)
    );
}

#[test]
fn every_rule_kind_has_a_case() {
    let tested = tested_kinds();
    for kind in Redactor::builtin().rule_names() {
        assert!(
            tested.contains(&kind),
            "no test case for rule kind `{kind}`"
        );
    }
}

#[test]
fn marker_kinds_match_the_exported_pattern() {
    for kind in Redactor::builtin().rule_names() {
        let marker = m(kind);
        let caps = marker_regex().captures(&marker).expect(&marker);
        assert_eq!(&caps["kind"], kind);
        assert_eq!(caps.get(0).unwrap().as_str(), marker);
    }
}

#[rstest]
#[case::deploy_build("./deploy/build.sh 1.4.2")]
#[case::git_pull("cd app && git pull")]
#[case::check_env("./deploy/check-env.sh")]
#[case::stale_lock("ps -p 4242 || rm ../state/migrate.lock")]
#[case::lock_message("migration lock held by pid 4242")]
#[case::health("healthy: version 1.4.2")]
#[case::ssh_keygen("ssh-keygen -t ed25519")]
#[case::ssh_keygen_file("ssh-keygen -t ed25519 -C bob@example.com -f ~/.ssh/id_ed25519")]
#[case::keyboard("KEYBOARD=us")]
#[case::export_keyboard("export KEYBOARD=us")]
#[case::monkey("monkey: banana")]
#[case::keycloak("docker pull quay.io/keycloak/keycloak:latest")]
#[case::sha256sum("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  app.tar.gz")]
#[case::docker_digest(
    "docker pull nginx@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)]
#[case::git_sha("commit 9fceb02d0ae598e95dc970b74767f19372d61af8\nAuthor: Bob <bob@example.com>")]
#[case::git_short_sha("9fceb02 fix stale lock handling")]
#[case::uuid("run 550e8400-e29b-41d4-a716-446655440000 started")]
#[case::mkdir_p("mkdir -p /tmp/build")]
#[case::docker_publish("docker run -p 8080:80 nginx")]
#[case::ssh_port("ssh -p 2222 deploy@web1")]
#[case::pwd_env("PWD=/home/bob/app\nOLDPWD=/home/bob")]
#[case::tokenizer("TOKENIZER_MODEL=bert-base")]
#[case::key_path("SSH_KEY_PATH=~/.ssh/id_ed25519")]
#[case::password_file("PASSWORD_FILE=/run/secrets/db")]
#[case::key_id("AWS_ACCESS_KEY_ID=$AWS_KEY")]
#[case::token_from_command("export GITHUB_TOKEN=$(cat ~/.config/gh/token)")]
#[case::token_from_var(r#"curl -H "Authorization: Bearer $TOKEN" https://api.example.com"#)]
#[case::password_stdin(
    "echo \"$PASS\" | docker login --username bob --password-stdin registry.example.com"
)]
#[case::git_ssh_remote("git clone git@github.com:org/repo.git")]
#[case::url_with_port("curl https://example.com:8443/health")]
#[case::kubectl_secret("kubectl get secret db-creds -o yaml")]
#[case::test_summary("test result: ok. 12 passed; 0 failed")]
#[case::sudo_prompt("[sudo] password for bob:")]
#[case::passphrase_prompt("Enter passphrase for key '/home/bob/.ssh/id_ed25519':")]
#[case::gpg_list("gpg --list-secret-keys")]
#[case::gpg_recv("gpg --recv-keys 0xDEADBEEF")]
#[case::kebab_task("./run --task-runner-for-something-long-enough")]
#[case::risk_words("risk-assessment-for-production-2024-q3")]
#[case::primary_key("primary_key=id")]
#[case::genrsa("openssl genrsa -out key.pem 4096")]
#[case::key_file("nginx --key-file ./deploy/tls.key")]
#[case::boolean("USE_TOKEN=true")]
#[case::prose_bearer("Use a bearer token for authentication")]
#[case::actions_secrets_inherit("    secrets: inherit")]
#[case::password_changed("Password changed for bob")]
#[case::docker_login_stdin("docker login -u bob --password-stdin ghcr.io")]
#[case::npm_install("npm install --save-dev typescript")]
#[case::public_key("SSH_PUBLIC_KEY=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB")]
fn leaves_ordinary_text_alone(#[case] text: &str) {
    let out = Redactor::builtin().redact(text);
    assert!(matches!(out, Cow::Borrowed(_)), "{text:?} became {out:?}");
}

#[test]
fn truncated_private_key_is_redacted_to_the_end() {
    let body = mix(64);
    let text = format!(
        "$ cat id_rsa\n{}RSA PRIVATE KEY-----\n{body}\n",
        "-----BEGIN "
    );
    let out = Redactor::builtin().redact(&text);
    assert_eq!(out, format!("$ cat id_rsa\n{}", m("private-key")));
}

#[test]
fn private_key_tail_without_begin_is_redacted_from_the_start() {
    // The second chunk of an output whose first chunk had the BEGIN line.
    let body = mix(64);
    let text = format!("{body}\n-----END RSA PRIVATE KEY-----\n$ ls\n");
    let out = Redactor::builtin().redact(&text);
    assert_eq!(out, format!("{}\n$ ls\n", m("private-key")));
}

#[test]
fn multi_line_netrc_entry() {
    let text = "machine github.com\n  login bob\n  password hunter2\n";
    assert_eq!(
        Redactor::builtin().redact(text),
        format!(
            "machine github.com\n  login bob\n  password {}\n",
            m("password")
        )
    );
}

#[test]
fn two_keys_are_two_blocks() {
    let (a, _, _) = pem("RSA");
    let (b, _, _) = pem("EC");
    let text = format!("{a}\nbetween\n{b}");
    let out = Redactor::builtin().redact(&text);
    assert_eq!(out, format!("{0}\nbetween\n{0}", m("private-key")));
}

#[test]
fn overlapping_matches_give_one_marker_named_by_the_earliest() {
    let r = Redactor::builtin();
    // The token rule and the github rule cover the same span: the specific
    // rule names it.
    let t = format!("ghp_{}", mix(36));
    assert_eq!(
        r.redact(&format!("TOKEN={t}")),
        format!("TOKEN={}", m("github-token"))
    );
    // A quoted password containing a token: the password value starts first
    // and is longer, so one `password` marker covers both.
    let text = format!(r#"DB_PASSWORD="{t} and more""#);
    assert_eq!(
        r.redact(&text),
        format!(r#"DB_PASSWORD="{}""#, m("password"))
    );
}

#[test]
fn existing_markers_are_kept_whole() {
    let r = Redactor::builtin();
    for text in [
        "https://bob:[REDACTED:url-password]@host/x",
        "DB_PASSWORD=\"[REDACTED:password]\"",
        "GITHUB_TOKEN=[REDACTED:github-token]",
        "api_key: [REDACTED:key]",
        "--password [REDACTED:password]",
        "[REDACTED:private-key]",
    ] {
        assert!(matches!(r.redact(text), Cow::Borrowed(_)), "{text}");
    }
}

#[test]
fn several_secrets_on_one_line() {
    let r = Redactor::builtin();
    let aws = format!("AKIA{}", upper(16));
    let gh = format!("ghp_{}", mix(36));
    let text = format!("AWS_ACCESS_KEY_ID={aws} GH={gh} mysql -u root -phunter2 app");
    let out = r.redact(&text);
    assert_eq!(
        out,
        format!(
            "AWS_ACCESS_KEY_ID={} GH={} mysql -u root -p{} app",
            m("aws-access-key"),
            m("github-token"),
            m("password")
        )
    );
}

#[test]
fn crlf_and_control_characters() {
    let r = Redactor::builtin();
    assert_eq!(
        r.redact("password=\"abc\r\nnext\x1b[0m"),
        format!("password=\"{}\r\nnext\x1b[0m", m("password"))
    );
    assert_eq!(
        r.redact("\x1b[32mexport TOKEN=abc123\x1b[0m\r\n"),
        format!("\x1b[32mexport TOKEN={}\x1b[0m\r\n", m("token"))
    );
}
