//! The web UI over real HTTP, on SQLite and the real PostgreSQL: login and
//! sessions, pages that render untrusted text inert, CSRF, and decisions
//! that only the SOP's owner may take.

mod common;

use common::{Client, PASSWORD, Server, seed, start};
use tacit_server::ServerStore;

/// Whether `text` appears in `html` escaped (as named or numeric entities).
fn shown_as_text(html: &str, text: &str) -> bool {
    let decoded = html
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    decoded.contains(text) && !html.contains(text)
}

/// Posts the login form: (status, response headers, body).
async fn post_login(
    client: &Client,
    server: &Server,
    form: Vec<u8>,
) -> (u16, std::collections::BTreeMap<String, String>, String) {
    client
        .raw(
            "POST",
            format!("{}/login", server.base),
            vec![],
            Some(("application/x-www-form-urlencoded".into(), form)),
        )
        .await
}

/// Logs `name` in through the form; returns the session cookie.
async fn login(client: &Client, server: &Server, name: &str) -> String {
    let form = format!(
        "name={name}&password={}&next=/review",
        PASSWORD.replace(' ', "+")
    );
    let (status, headers, body) = post_login(client, server, form.into_bytes()).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(headers["location"], "/review");
    let cookie = &headers["set-cookie"];
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

async fn page(client: &Client, server: &Server, cookie: &str, path: &str) -> (u16, String) {
    let (status, _, body) = client
        .raw(
            "GET",
            format!("{}{path}", server.base),
            vec![("Cookie", cookie.to_string())],
            None,
        )
        .await;
    (status, body)
}

/// The CSRF token in a page's forms.
fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..at + 32].to_string()
}

async fn post_form(
    client: &Client,
    server: &Server,
    cookie: &str,
    path: &str,
    form: &str,
    extra: Vec<(&'static str, String)>,
) -> (u16, String, String) {
    let mut headers = vec![("Cookie", cookie.to_string())];
    headers.extend(extra);
    let (status, h, body) = client
        .raw(
            "POST",
            format!("{}{path}", server.base),
            headers,
            Some((
                "application/x-www-form-urlencoded".into(),
                form.as_bytes().to_vec(),
            )),
        )
        .await;
    (status, h.get("location").cloned().unwrap_or_default(), body)
}

async fn sign_in_and_out<S: ServerStore>(store: &S) {
    seed(store).await;
    let server = start(store).await;
    let client = Client::new();
    // Not signed in: every page sends you to log in, and back after.
    let (status, headers, _) = client
        .raw(
            "GET",
            format!("{}/sops/restart-worker", server.base),
            vec![],
            None,
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/login?next=/sops/restart-worker");
    // A wrong password says so, without saying which part was wrong.
    let (status, _, body) = post_login(
        &client,
        &server,
        b"name=olga&password=wrong+password+here".to_vec(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("wrong name or password"), "{body}");
    let (status, _, body2) = post_login(
        &client,
        &server,
        b"name=nobody&password=wrong+password+here".to_vec(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(body2.contains("wrong name or password"));
    // Only a path on this site is a place to return to.
    let (_, headers, _) = post_login(
        &client,
        &server,
        format!(
            "name=olga&password={}&next=//evil.example/x",
            PASSWORD.replace(' ', "+")
        )
        .into_bytes(),
    )
    .await;
    assert_eq!(headers["location"], "/");
    let cookie = login(&client, &server, "olga").await;
    let (status, body) = page(&client, &server, &cookie, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("olga (owner)"), "{body}");
    // Logging out ends the session everywhere.
    let token = csrf(&body);
    let (status, location, _) = post_form(
        &client,
        &server,
        &cookie,
        "/logout",
        &format!("csrf={token}"),
        vec![],
    )
    .await;
    assert_eq!((status, location.as_str()), (303, "/login"));
    let (status, _) = page(&client, &server, &cookie, "/").await;
    assert_eq!(status, 303);
}

async fn pages_show_the_library_and_render_untrusted_text_inert<S: ServerStore>(store: &S) {
    let (sop, run) = seed(store).await;
    // Markdown with script in it, as an imported runbook could carry.
    let mut evil = tacit_library::load_sop(store, &sop, None).await.unwrap();
    evil.sections.push(tacit_sop::ProseSection {
        title: "Notes <script>alert('section')</script>".into(),
        markdown: "<script>alert('md')</script>\n\n[click](javascript:alert(1)) <img src=x onerror=alert(2)>".into(),
        after: None,
    });
    let base = evil.version;
    tacit_library::save_version(
        store,
        evil,
        tacit_library::keeping::revision("olga", "notes".into(), vec![]),
        Some(base),
    )
    .await
    .unwrap();
    let server = start(store).await;
    let client = Client::new();
    let cookie = login(&client, &server, "vera").await;
    let (status, library) = page(&client, &server, &cookie, "/?q=queue").await;
    assert_eq!(status, 200);
    assert!(library.contains("/sops/restart-worker"), "{library}");
    let (_, none) = page(&client, &server, &cookie, "/?q=zebra").await;
    assert!(!none.contains("/sops/restart-worker"));
    let (status, html) = page(&client, &server, &cookie, &format!("/sops/{sop}")).await;
    assert_eq!(status, 200);
    for payload in ["<script>", "onerror=", "javascript:"] {
        assert!(!html.contains(payload), "{payload} in the SOP page: {html}");
    }
    assert!(
        shown_as_text(&html, "<script>alert('title')"),
        "the title is shown as text"
    );
    assert!(
        html.contains("<svg") && html.contains("Flowchart of"),
        "the flowchart is drawn"
    );
    assert!(html.contains("Restart the worker."), "{html}");
    let (status, html) = page(&client, &server, &cookie, &format!("/runs/{run}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        shown_as_text(&html, "<img src=x onerror=alert(1)> noted"),
        "{html}"
    );
    for path in [
        "/status",
        "/teams",
        "/review",
        "/tokens",
        &format!("/sops/{sop}/diff"),
        &format!("/sops/{sop}?version=1"),
    ] {
        let (status, html) = page(&client, &server, &cookie, path).await;
        assert_eq!(status, 200, "{path}: {html}");
        assert!(!html.contains("<script>"), "{path}");
    }
    let (status, _) = page(&client, &server, &cookie, "/sops/nope").await;
    assert_eq!(status, 404);
    let (status, _) = page(&client, &server, &cookie, &format!("/sops/{sop}?version=x")).await;
    assert_eq!(status, 400);
}

async fn forms_from_elsewhere_are_refused_and_only_owners_decide<S: ServerStore>(store: &S) {
    let (sop, _) = seed(store).await;
    let server = start(store).await;
    let client = Client::new();
    let proposals = store.proposals(&sop).await.unwrap();
    let accept = format!("/sops/{sop}/proposals/{}/accept", proposals[0].id);

    let olga = login(&client, &server, "olga").await;
    let (_, review) = page(&client, &server, &olga, "/review").await;
    assert!(review.contains("Accept"), "{review}");
    let token = csrf(&review);
    let form = format!("csrf={token}&base_version=2");
    // Without the token, with a wrong one, or from another site: refused.
    for (form, extra) in [
        ("base_version=2".to_string(), vec![]),
        (
            "csrf=00000000000000000000000000000000&base_version=2".to_string(),
            vec![],
        ),
        (
            form.clone(),
            vec![("Origin", "http://evil.example".to_string())],
        ),
        (
            form.clone(),
            vec![("Sec-Fetch-Site", "cross-site".to_string())],
        ),
        (form.clone(), vec![("Origin", "null".to_string())]),
    ] {
        let (status, _, body) = post_form(&client, &server, &olga, &accept, &form, extra).await;
        assert_eq!(status, 403, "{form}: {body}");
        assert!(body.contains("cross-site request refused"), "{body}");
    }
    assert!(
        store
            .proposals(&sop)
            .await
            .unwrap()
            .iter()
            .all(|p| p.status == "pending")
    );

    // A viewer sees the queue but cannot decide, not even by posting.
    let vera = login(&client, &server, "vera").await;
    let (_, review) = page(&client, &server, &vera, "/review").await;
    assert!(!review.contains(">Accept<"), "{review}");
    assert!(
        review.contains("Only the SOP's owner (olga) or an admin decides"),
        "{review}"
    );
    let vera_form = format!("csrf={}&base_version=2", csrf(&review));
    let (status, _, _) = post_form(&client, &server, &vera, &accept, &vera_form, vec![]).await;
    assert_eq!(status, 403);
    // Another owner neither.
    let oscar = login(&client, &server, "oscar").await;
    let (_, review) = page(&client, &server, &oscar, "/review").await;
    let (status, _, _) = post_form(
        &client,
        &server,
        &oscar,
        &accept,
        &format!("csrf={}&base_version=2", csrf(&review)),
        vec![],
    )
    .await;
    assert_eq!(status, 403);

    // The owner, from the page itself: accepted, a new version by her.
    let same_site = vec![
        ("Origin", server.base.clone()),
        ("Sec-Fetch-Site", "same-origin".to_string()),
    ];
    let (status, location, body) =
        post_form(&client, &server, &olga, &accept, &form, same_site.clone()).await;
    assert_eq!(status, 303, "{body}");
    assert!(location.starts_with("/review?done="), "{location}");
    let latest = store.sop_version(&sop, None).await.unwrap().unwrap();
    assert_eq!((latest.version, latest.author.as_str()), (3, "olga"));
    // The same page, now stale (it showed version 2): refused, not merged.
    let reject = format!("/sops/{sop}/proposals/{}/reject", proposals[1].id);
    let (status, _, body) = post_form(
        &client,
        &server,
        &olga,
        &reject,
        &format!("{form}&reason=not+needed"),
        same_site.clone(),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("changed while you worked"), "{body}");
    // From the fresh page it goes through, with its reason kept.
    let (status, _, body) = post_form(
        &client,
        &server,
        &olga,
        &reject,
        &format!("csrf={token}&base_version=3&reason=fixed+upstream"),
        same_site,
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let rejected = store
        .proposals(&sop)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.id == proposals[1].id)
        .unwrap();
    assert_eq!(
        (rejected.status.as_str(), rejected.resolution.as_deref()),
        ("rejected", Some("fixed upstream"))
    );
}

async fn tokens_made_and_revoked_in_the_browser<S: ServerStore>(store: &S) {
    seed(store).await;
    let server = start(store).await;
    let client = Client::new();
    let otto = login(&client, &server, "otto").await;
    let (_, html) = page(&client, &server, &otto, "/tokens").await;
    // An operator cannot pick a scope above their role.
    assert!(!html.contains("value=\"admin\"") && html.contains("value=\"operator\""));
    let token = csrf(&html);
    let (status, _, html) = post_form(
        &client,
        &server,
        &otto,
        "/tokens",
        &format!("csrf={token}&label=laptop&scope=viewer&ttl_days=7"),
        vec![],
    )
    .await;
    assert_eq!(status, 200);
    let at = html.find("id=\"new-token\">").unwrap() + 15;
    let secret = html[at..at + 70].to_string();
    assert!(secret.starts_with("tacit_"), "{secret}");
    let (status, me) = client
        .call(
            "GET",
            format!("{}/api/me", server.base),
            Some(secret.clone()),
            None,
        )
        .await;
    assert_eq!((status, me["role"].as_str()), (200, Some("viewer")));
    // Shown once: the list never shows it again.
    let (_, html) = page(&client, &server, &otto, "/tokens").await;
    assert!(!html.contains(&secret));
    let id = store
        .tokens("otto")
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.label == "laptop")
        .unwrap()
        .id;
    let (status, _, _) = post_form(
        &client,
        &server,
        &otto,
        &format!("/tokens/{id}/revoke"),
        &format!("csrf={token}"),
        vec![],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = client
        .call("GET", format!("{}/api/me", server.base), Some(secret), None)
        .await;
    assert_eq!(status, 401);
    // Bad values come back as a message on the page, not an error page.
    let (status, _, html) = post_form(
        &client,
        &server,
        &otto,
        "/tokens",
        &format!("csrf={token}&label=x&ttl_days=forever"),
        vec![],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("is not a number of days"), "{html}");
}

/// The form's textarea content, unescaped.
fn textarea(html: &str) -> String {
    let start = html.find("<textarea").unwrap();
    let start = html[start..].find('>').unwrap() + start + 1;
    let end = html.find("</textarea>").unwrap();
    html[start..end]
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#38;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn form_encode(s: &str) -> String {
    tacit_server::web::urlencode(s).replace('/', "%2F")
}

async fn an_owner_edits_a_proposal_before_accepting_it<S: ServerStore>(store: &S) {
    let (sop, _) = seed(store).await;
    let server = start(store).await;
    let client = Client::new();
    let proposals = store.proposals(&sop).await.unwrap();
    let path = format!("/sops/{sop}/proposals/{}/edit", proposals[0].id);
    let vera = login(&client, &server, "vera").await;
    let (status, _) = page(&client, &server, &vera, &path).await;
    assert_eq!(status, 403);
    let olga = login(&client, &server, "olga").await;
    let (status, html) = page(&client, &server, &olga, &path).await;
    assert_eq!(status, 200, "{html}");
    let text = textarea(&html);
    assert!(
        text.contains("removed the lock 0"),
        "the proposal is applied: {text}"
    );
    let token = csrf(&html);
    // A text that does not parse comes back, whole, with why.
    let broken = "---\nid: [unclosed\n---\n# Restart the worker\n";
    let (status, _, html) = post_form(
        &client,
        &server,
        &olga,
        &path,
        &format!(
            "csrf={token}&base_version=2&markdown={}",
            form_encode(broken)
        ),
        vec![],
    )
    .await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("does not parse"), "{html}");
    assert_eq!(textarea(&html).replace("\r\n", "\n"), broken);
    assert_eq!(store.sop_versions(&sop).await.unwrap().len(), 2);
    // The edited text is saved as the next version.
    let edited = text.replace(
        "removed the lock 0",
        "removed /run/worker.lock after checking no worker runs",
    );
    let (status, location, body) = post_form(
        &client,
        &server,
        &olga,
        &path,
        &format!(
            "csrf={token}&base_version=2&markdown={}",
            form_encode(&edited)
        ),
        vec![],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(location.starts_with("/review?done="));
    let latest = tacit_library::load_sop(store, &sop, None).await.unwrap();
    assert_eq!(latest.version, 3);
    assert!(
        tacit_sop::render_markdown(&latest).contains("after checking no worker runs"),
        "{latest:?}"
    );
    let p = store
        .proposals(&sop)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.id == proposals[0].id)
        .unwrap();
    assert_eq!(p.status, "accepted");
}

async fn a_live_run_page_follows_new_commands<S: ServerStore>(store: &S) {
    use std::io::BufRead;
    seed(store).await;
    let live = tacit_core::RunMeta {
        id: "live-run-0001".into(),
        name: "hotfix".into(),
        shell: "bash".into(),
        started_at_ms: 1_000,
        ended_at_ms: None,
        status: tacit_core::RunStatus::Recording,
        host: "laptop".into(),
        user: "otto".into(),
        start_cwd: "/".into(),
        recorder_pid: None,
        tacit_version: "0".into(),
        cols: 80,
        rows: 24,
        sop_id: None,
        sop_version: None,
        imported_at_ms: None,
    };
    store.upsert_run(&live).await.unwrap();
    let note = |seq: u64, text: &str| tacit_core::Event {
        seq,
        at_ms: 1_000 + seq as i64,
        body: tacit_core::EventBody::Note { text: text.into() },
    };
    store
        .append_events(&live.id, &[note(1, "started")])
        .await
        .unwrap();
    let server = start(store).await;
    let client = Client::new();
    let cookie = login(&client, &server, "vera").await;
    let (status, html) = page(&client, &server, &cookie, "/runs/live-run-0001").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-live=\"/runs/live-run-0001/live?after=1\""),
        "{html}"
    );
    assert!(html.contains("/assets/live.js"));
    // Follow the stream as a browser's EventSource would.
    let url = format!("{}/runs/live-run-0001/live?after=1", server.base);
    let agent = client.agent.clone();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut resp = agent.get(&url).header("Cookie", cookie).call().unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let body = resp.body_mut().as_reader();
        for line in std::io::BufReader::new(body).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    store
        .append_events(&live.id, &[note(2, "<b>restarted</b> the worker")])
        .await
        .unwrap();
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.iter().any(|l: &String| l.contains("restarted")) {
        assert!(std::time::Instant::now() < deadline, "no event: {seen:?}");
        // Never block the runtime the server runs on.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        seen.extend(rx.try_iter());
    }
    let data = seen.iter().find(|l| l.contains("restarted")).unwrap();
    assert!(data.starts_with("data:"), "{data}");
    assert!(!data.contains("<b>"), "recorded text stays escaped: {data}");
    assert!(seen.iter().any(|l| l == "event: events"), "{seen:?}");
    // The run ends: the stream says so and closes.
    store
        .set_status(&live.id, tacit_core::RunStatus::Completed, Some(9_000))
        .await
        .unwrap();
    while !seen.iter().any(|l| l == "event: end") {
        assert!(std::time::Instant::now() < deadline, "no end: {seen:?}");
        // Never block the runtime the server runs on.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        seen.extend(rx.try_iter());
    }
    tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap();
    // Not signed in: no stream.
    let (status, _, _) = client
        .raw(
            "GET",
            format!("{}/runs/live-run-0001/live", server.base),
            vec![],
            None,
        )
        .await;
    assert_eq!(status, 401);
}

tacit_store::both_backends!(
    a_live_run_page_follows_new_commands,
    an_owner_edits_a_proposal_before_accepting_it,
    sign_in_and_out,
    pages_show_the_library_and_render_untrusted_text_inert,
    forms_from_elsewhere_are_refused_and_only_owners_decide,
    tokens_made_and_revoked_in_the_browser,
);
