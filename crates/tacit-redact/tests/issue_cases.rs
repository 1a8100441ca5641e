//! Every case the issue "Secrets never reach the disk" listed under "Where
//! we are": what slipped through, and the look-alikes that were altered.
//! Secrets are assembled at run time so this file holds no complete token.

use tacit_redact::{MARKER_PREFIX, Redactor};

fn mix(n: usize) -> String {
    "k3Jq9Zt7Vx2Mb8Nw4Lc6Rd1Yh5Gf0Ps"
        .chars()
        .cycle()
        .take(n)
        .collect()
}

fn b64(n: usize) -> String {
    "Zm9vYmFyK2Jhei9xdXV4PT1hYmNkZWZn"
        .chars()
        .cycle()
        .take(n)
        .collect()
}

fn hex(n: usize) -> String {
    "9c4e1a7f3b2d8065".chars().cycle().take(n).collect()
}

/// `text` loses every listed secret, whole, and nothing of 6 characters or
/// more of it is left behind.
fn gone(text: &str, secrets: &[&str]) {
    let out = Redactor::builtin().redact(text).into_owned();
    for s in secrets {
        assert!(text.contains(s), "bad case: {s:?} not in {text:?}");
        assert!(!out.contains(s), "kept {s:?}:\n{text}\n→ {out}");
        if s.len() >= 12 {
            for w in s.as_bytes().windows(8) {
                let piece = String::from_utf8_lossy(w);
                assert!(
                    !out.contains(piece.as_ref()),
                    "kept part {piece:?} of {s:?}:\n{text}\n→ {out}"
                );
            }
        }
    }
    assert!(out.contains(MARKER_PREFIX), "{out}");
}

fn kept(text: &str) {
    let out = Redactor::builtin().redact(text);
    assert_eq!(out, text, "a look-alike was altered");
}

#[test]
fn vault_init_output() {
    let (k1, tok) = (b64(44), format!("s.{}", mix(24)));
    gone(
        &format!(
            "Unseal Key 1: {k1}\nUnseal Key 2: {}\n\nInitial Root Token: {tok}\n",
            b64(43) + "="
        ),
        &[&k1, &tok],
    );
}

#[test]
fn docker_config_auth_and_npmrc_auth() {
    let a = b64(28);
    gone(
        &format!(
            "{{\n  \"auths\": {{\n    \"registry.example.com\": {{\n      \"auth\": \"{a}\"\n    }}\n  }}\n}}"
        ),
        &[&a],
    );
    gone(&format!("_auth={a}\nalways-auth=true"), &[&a]);
    let t = format!("npm_{}", mix(36));
    gone(&format!("//registry.npmjs.org/:_authToken={t}"), &[&t]);
}

#[test]
fn pgpass_lines() {
    let p = mix(18);
    gone(
        &format!("db.internal:5432:orders:app:{p}\n*:*:*:replicator:{p}x"),
        &[&p],
    );
}

#[test]
fn tool_password_arguments() {
    let p = format!("{}!", mix(14));
    for cmd in [
        format!("ldapsearch -x -D cn=admin,dc=ex,dc=org -w {p} -b dc=ex,dc=org"),
        format!("sqlcmd -S db -U sa -P '{p}' -Q 'select 1'"),
        format!("mongosh mongodb://db:27017 -u admin -p {p}"),
        format!("az login -u ops@example.com -p {p}"),
        format!("keytool -importkeystore -srcstorepass {p} -deststorepass {p} -destkeystore k.jks"),
        format!("openssl enc -aes-256-cbc -k {p} -in a -out b"),
        format!("zip -P {p} backup.zip dump.sql"),
        format!("smbclient //fs/share -U ops%{p}"),
        format!("htpasswd -b /etc/nginx/.htpasswd ops {p}"),
        format!("echo {p} | sudo -S systemctl restart nginx"),
    ] {
        gone(&cmd, &[&p]);
    }
}

#[test]
fn sql_password_clauses_typed_or_in_a_client() {
    let p = mix(16);
    for sql in [
        format!("ALTER USER app WITH PASSWORD '{p}';"),
        format!("psql -c \"CREATE ROLE bob LOGIN PASSWORD '{p}'\""),
        format!("mysql -e \"CREATE USER 'bi'@'%' IDENTIFIED BY '{p}'\""),
        format!("mariadb> ALTER USER 'bi'@'%' IDENTIFIED BY '{p}';"),
        format!("SET PASSWORD FOR 'app'@'localhost' = '{p}';"),
        format!("CREATE LOGIN app WITH PASSWORD = '{p}';"),
        format!("ALTER USER scott IDENTIFIED BY {p};"),
    ] {
        gone(&sql, &[&p]);
    }
}

#[test]
fn bare_vendor_tokens() {
    for t in [
        format!("xapp-1-A0{}-{}-{}", mix(9), &hex(13)[..13], hex(64)),
        format!("ya29.{}", mix(120)),
        format!("GOCSPX-{}", mix(28)),
        format!("whsec_{}", mix(32)),
        format!("ABSK{}", b64(100)),
        format!("hf_{}", mix(34)),
        format!("shpat_{}", hex(32)),
        format!("shpca_{}", hex(32)),
    ] {
        gone(&format!("{t}\n"), &[&t]);
    }
}

#[test]
fn ecr_login_password_printed_bare() {
    // `aws ecr get-login-password` prints a long base64 token on its own.
    let t = format!("eyJwYXlsb2FkIjoi{}", b64(1200));
    gone(&t, &[&t]);
}

#[test]
fn cookies_dsn_webhooks_signed_urls() {
    let (c, d, w, s, sig) = (mix(32), hex(32), mix(68), hex(64), b64(43));
    gone(&format!("Set-Cookie: session={c}; Path=/; HttpOnly"), &[&c]);
    gone(&format!("Cookie: _ga=GA1.2.3; session={c}"), &[&c]);
    gone(
        &format!("SENTRY_DSN=https://{d}@o4504.ingest.sentry.io/4505"),
        &[&d],
    );
    gone(&format!("https://discord.com/api/webhooks/1187/{w}"), &[&w]);
    gone(
        &format!(
            "https://bucket.s3.amazonaws.com/report.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={s}"
        ),
        &[&s],
    );
    gone(
        &format!("https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&sig={sig}%3D"),
        &[&sig],
    );
}

#[test]
fn kubernetes_secret_data_under_a_neutral_name() {
    let v = b64(48);
    gone(
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  db-url: {v}\n  region: ZXUtd2VzdC0x\n"
        ),
        &[&v],
    );
}

#[test]
fn putty_and_age_keys() {
    let line = b64(64);
    gone(
        &format!(
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ops\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: 1\n{line}\nPrivate-MAC: {}\n",
            mix(64),
            mix(20),
            hex(64)
        ),
        &[&line],
    );
    let age = format!(
        "AGE-SECRET-KEY-1{}",
        "QZ7K3M9P2X8V4T6W"
            .chars()
            .cycle()
            .take(58)
            .collect::<String>()
    );
    gone(&format!("# created: 2026-11-29\n{age}\n"), &[&age]);
}

#[test]
fn prose_in_notes_and_answers() {
    let r = Redactor::builtin();
    let p = format!("{}9!", mix(10));
    for note in [
        format!("the new root password is {p}"),
        format!("token: {p}"),
        format!("I reset it to {p} for now"),
    ] {
        let out = r.redact_prose(&note);
        assert!(!out.contains(&p), "{note} → {out}");
    }
    // Output is not prose: "the password is required" stays in a log.
    assert_eq!(
        r.redact_prose("the password is required"),
        "the password is required"
    );
}

#[test]
fn a_value_past_shell_metacharacters_goes_whole() {
    let v = format!("xa&i+-={}(k)$#@!{}", mix(20), mix(21));
    gone(&format!("DJANGO_SECRET_KEY={v}"), &[&v]);
    // A URL's next parameter is not part of the value.
    let t = mix(24);
    let url = format!("https://x.example.com/?token={t}&page=2");
    let out = Redactor::builtin().redact(&url);
    assert!(out.ends_with("&page=2") && !out.contains(&t), "{out}");
}

#[test]
fn look_alikes_that_broke_procedures_survive() {
    for text in [
        r#"{"Tags": [{"Key": "Name", "Value": "web-1"}, {"Key": "env", "Value": "prod"}]}"#,
        "aws s3api get-object --bucket logs --key 2026/11/29/app.log out.log",
        "aws s3api put-object --bucket b --key reports/q3.pdf --body q3.pdf",
        "curl --cert tls.crt --key tls.key https://api.internal/health",
        "openssl req -new -key api.example.internal.key -subj /CN=api.example.internal -out api.csr",
        "openssl s_server --key tls.key --cert tls.crt",
        "        secretKeyRef:\n          name: db\n          key: password",
        "terraform {\n  backend \"s3\" {\n    key = \"env/prod/terraform.tfstate\"\n  }\n}",
        "ssh -o StrictHostKeyChecking=no -o PasswordAuthentication=no ops@web-1",
        "Idempotency-Key: 7f1c2a9e-3b4d-4c5e-8f6a-0b1c2d3e4f5a",
        "passwd: password updated successfully",
        "      --password string     Password for the registry",
        "  -p, --password PASSWORD  the password to use",
        r#"read -rsp "Password: " PASS; export PASS"#,
        "PASSWORD_MIN_LENGTH=12",
        "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
        r#"password: "{{ vault_db_password }}""#,
    ] {
        kept(text);
    }
}

#[test]
fn what_a_secret_printing_command_prints_is_a_secret() {
    use tacit_redact::prints_secret;
    let r = Redactor::builtin();
    for cmd in [
        "gh auth token",
        "aws ecr get-login-password --region eu-west-1",
        "vault kv get -field=password secret/db",
        "gcloud auth print-access-token",
        "kubectl get secret db -o jsonpath='{.data.password}' | base64 -d",
        "op read op://ops/db/password",
        "openssl rand -base64 32",
        "security find-generic-password -s db -w",
    ] {
        assert!(prints_secret(cmd), "{cmd}");
    }
    for cmd in [
        "git log --oneline",
        "kubectl get pods",
        "vault status",
        "cat README.md",
    ] {
        assert!(!prints_secret(cmd), "{cmd}");
    }
    // A lone value, whatever it looks like.
    let p = "Tr0ub4dor&3";
    let out = r.redact_secret_output(&format!("{p}\n")).into_owned();
    assert!(!out.contains(p), "{out}");
    // In longer output, the high-entropy tokens.
    let t = mix(32);
    let out = r.redact_secret_output(&format!("Key                Value\n---                -----\npassword           {t}\nversion            3\n")).into_owned();
    assert!(
        !out.contains(&t) && out.contains("version            3"),
        "{out}"
    );
}

#[test]
fn a_name_that_is_not_a_secret_does_not_hide_the_next_one() {
    // `SharedAccessKeyName=x` is not a secret; `SharedAccessKey=y` right
    // after it in the same connection string is.
    let k = format!("{}/=", mix(42));
    gone(
        &format!(
            "Endpoint=sb://orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={k}"
        ),
        &[&k],
    );
}
