//! What the trust issue's probe of a running server found, each kept tested:
//! course media behind signed URLs, webhook destinations refused at
//! registration.

use lectern_e2e::Api;
use serde_json::json;

use crate::content::{fake_pdf, install_content_plugin, upload};
use crate::{World, create_user};

/// Status and `cache-control` of a GET of `path` (relative to the server).
async fn get(api: &Api, path: &str) -> (u16, String) {
    let r = api.http.get(format!("{}{path}", api.base)).send().await.unwrap();
    let cc = r.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (r.status().as_u16(), cc)
}

#[tokio::test]
async fn course_media_is_served_only_through_the_course_or_an_instructors_choice() {
    let w = World::new().await;
    install_content_plugin(&w).await;
    let a = &w.a.slug;
    create_user(&w.a.admin, a, "ines@alpha.test", "staff").await;
    let sam = create_user(&w.a.admin, a, "sam@alpha.test", "member").await;
    let teacher = w.login(a, "ines@alpha.test").await;
    let student = w.login(a, "sam@alpha.test").await;
    let outsider = w.login(&w.b.slug, &format!("admin@{}.test", w.b.slug)).await;
    let anon = w.server.client().anonymous();
    let r = teacher.post(&format!("/api/v1/institutions/{a}/courses"), json!({"code": "T1", "title": "Trust"})).await;
    let base = format!("/api/v1/institutions/{a}/courses/{}", r.ok()["id"].as_str().unwrap());
    teacher.post(&format!("{base}/enrolments"), json!({"user_id": sam, "role": "student"})).await.ok();
    teacher.post_empty(&format!("{base}/publish")).await.ok();

    // A handout: the upload answers with a signed URL, which serves it.
    let r = upload(&teacher, &format!("{base}/media?filename=answers.pdf"), fake_pdf(), "application/pdf").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sha = r.body["sha256"].as_str().unwrap().to_owned();
    assert_eq!(r.body["public"], false);
    let signed = r.body["url"].as_str().unwrap().trim_start_matches(&w.server.base).to_owned();
    assert!(signed.starts_with(&format!("/blobs/{sha}?m=")), "{signed}");
    assert_eq!(get(&anon, &signed).await.0, 200, "the URL is the capability");
    // Without the signature, nobody can fetch it or learn that it exists,
    // signed in or not, in this institution or another.
    let bare = format!("/blobs/{sha}");
    for who in [&anon, &student, &outsider] {
        who.get(&bare).await.assert_problem(404, "not-found");
    }
    // A signature is for one blob, one course, one expiry.
    let (path, query) = signed.split_once('?').unwrap();
    let param = |name: &str| query.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap().to_owned();
    let (m, e, sig) = (param("m"), param("e").parse::<i64>().unwrap(), param("s"));
    let other_sha = "ab".repeat(32);
    let other_course = format!("{}.{}", m.split('.').next().unwrap(), "01a2526d-0000-7000-8000-000000000000");
    for forged in [
        format!("{path}?m={m}&e={}&s={sig}", e + 4 * 3600),
        format!("{path}?m={m}&e={e}&s={}", sig.chars().rev().collect::<String>()),
        format!("{path}?m={other_course}&e={e}&s={sig}"),
        format!("{path}?p={m}&e={e}&s={sig}"),
        format!("/blobs/{other_sha}?m={m}&e={e}&s={sig}"),
        format!("{path}?m={m}&e={e}"),
        format!("{path}?m={m}&p={m}&e={e}&s={sig}"),
        format!("{path}?m={m}&e=1&s={sig}"),
    ] {
        anon.get(&forged).await.assert_problem(404, "not-found");
    }

    // A student of the course gets a signed URL with the item; someone of
    // another institution gets neither the item nor a URL.
    teacher.post(&format!("{base}/content/modules"), json!({"id": "m", "title": "M"})).await.ok();
    let items = format!("{base}/content/modules/m/items");
    teacher.post(&items, json!({"id": "h", "kind": "file", "title": "Handout", "media": sha})).await.ok();
    // A page that shows an image by its plain media URL, as authors paste it.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let r = upload(&teacher, &format!("{base}/media?filename=fig.png"), png, "image/png").await;
    let png_sha = r.body["sha256"].as_str().unwrap().to_owned();
    let md = format!("# Figure\n\n![the figure](/blobs/{png_sha})\n");
    teacher.post(&items, json!({"id": "p", "kind": "page", "title": "Page", "markdown": md})).await.ok();
    let opened = student.get(&format!("{base}/content/items/h")).await;
    let url = opened.ok()["item"]["body"]["url"].as_str().unwrap().to_owned();
    assert_eq!(get(&anon, &url).await.0, 200);
    outsider.get(&format!("{base}/content/items/h")).await.assert_problem(403, "forbidden");
    let page = student.get(&format!("{base}/content/items/p")).await;
    let html = page.ok()["html"].as_str().unwrap().to_owned();
    let img = html.split("src=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().replace("&amp;", "&");
    assert!(img.starts_with(&format!("/blobs/{png_sha}?m=")), "the page's image is signed for the reader: {html}");
    assert_eq!(get(&anon, &img).await.0, 200);
    let page_doc = page.body["html_url"].as_str().unwrap().to_owned();
    assert!(page_doc.contains("?p="), "{page_doc}");
    assert_eq!(get(&anon, &page_doc).await.0, 200);

    // Deleting the file stops every URL the course handed out, at once.
    assert_eq!(teacher.delete(&format!("{base}/media/{sha}")).await.status, 204);
    for u in [&signed, &url] {
        anon.get(u).await.assert_problem(404, "not-found");
    }

    // Public is the instructor's choice, per file: then the plain URL serves
    // it to anyone and may be cached for good; private again, it does not.
    let syllabus = b"%PDF-1.4\n% syllabus\n".to_vec();
    let r = upload(&teacher, &format!("{base}/media?filename=syllabus.pdf"), syllabus, "application/pdf").await;
    let pub_sha = r.body["sha256"].as_str().unwrap().to_owned();
    student.patch(&format!("{base}/media/{pub_sha}"), json!({"public": true})).await.assert_problem(403, "forbidden");
    let r = teacher.patch(&format!("{base}/media/{pub_sha}"), json!({"public": true})).await;
    assert_eq!(r.ok()["public"], true);
    assert_eq!(r.body["url"], format!("{}/blobs/{pub_sha}", w.server.base));
    let (status, cc) = get(&anon, &format!("/blobs/{pub_sha}")).await;
    assert_eq!((status, cc.as_str()), (200, "public, max-age=31536000, immutable"));
    let listed = teacher.get(&format!("{base}/media")).await;
    let entry =
        listed.ok()["items"].as_array().unwrap().iter().find(|m| m["sha256"] == pub_sha.as_str()).unwrap().clone();
    assert_eq!(entry["public"], true);
    teacher.patch(&format!("{base}/media/{pub_sha}"), json!({"public": false})).await.ok();
    anon.get(&format!("/blobs/{pub_sha}")).await.assert_problem(404, "not-found");
    teacher
        .patch(&format!("{base}/media/{}", "cd".repeat(32)), json!({"public": true}))
        .await
        .assert_problem(404, "not-found");
}

#[tokio::test]
async fn webhooks_to_non_public_addresses_are_refused_when_registered() {
    let w = World::new().await; // allow_private_addresses is off, as in production
    let hooks = format!("/api/v1/institutions/{}/webhooks", w.a.slug);
    for (url, why) in [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://10.0.0.1/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("https://172.16.0.5/hook", "private"),
        ("http://0x7f000001/hook", "loopback"),
        ("http://2130706433/hook", "loopback"),
        ("http://0177.0.0.1/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://[::ffff:a9fe:a9fe]/hook", "link-local"),
        ("http://[fd00::1]/hook", "unique-local"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://localhost:9000/hook", "loopback name"),
        ("http://api.localhost/hook", "loopback name"),
    ] {
        let r = w.a.admin.post(&hooks, json!({ "url": url, "events": ["grade.recorded"] })).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.body["field"], "url", "{url}: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(why) && detail.contains("allow_private_addresses"), "{url}: {detail}");
    }
    // Nothing was registered.
    assert_eq!(w.a.admin.get(&hooks).await.ok()["items"].as_array().unwrap().len(), 0);
    // A public destination is accepted (nothing is sent at registration).
    let r = w.a.admin.post(&hooks, json!({ "url": "https://93.184.215.14/hook", "events": ["grade.recorded"] })).await;
    assert_eq!(r.status, 201, "{}", r.body);
}
