//! The chat demo's page (`examples/chat/index.html`) driven in a browser tab as a person uses
//! it: wait for its WebSocket, fill in and submit the join form, type and send messages; and the
//! JavaScript conditions the browser checks wait for (a message shown, the member list, the
//! room counts). Shared by the chat's checks in Chromium (`examples/cdp_chat_check.rs`,
//! `cdp_cluster_check.rs`, `cdp_chat_h2_check.rs`, `cdp_inspector_check.rs`).
//!
//! A check includes it with `#[path = "common/chat_page.rs"] mod chat_page;` next to
//! `#[path = "common/cdp.rs"] mod cdp;`, which it drives the browser with.
#![allow(dead_code)]

use std::time::Duration;

use crate::cdp::{CdpError, DevTools, Page, js_string};

/// The longest any one step of a chat check waits (the page connecting, a message arriving).
pub const STEP: Duration = Duration::from_secs(20);

/// The size of a chat tab (and of its screenshots).
pub const WIDTH: u32 = 1100;
pub const HEIGHT: u32 = 680;

/// How many message bubbles the page shows.
pub const MESSAGES_SHOWN: &str = "document.querySelectorAll('#messages .msg').length";

/// Open the chat page at `url` in a new tab and wait until its WebSocket is open.
pub fn open(devtools: &mut DevTools, url: &str) -> Result<Page, CdpError> {
    let page = devtools.open_page(url, WIDTH, HEIGHT)?;
    wait_connected(devtools, &page)?;
    Ok(page)
}

/// Wait until the page's WebSocket is open.
pub fn wait_connected(devtools: &mut DevTools, page: &Page) -> Result<(), CdpError> {
    devtools.wait_for(page, "document.body.dataset.conn === 'open'", STEP)?;
    Ok(())
}

/// Fill in the join form, submit it, and wait for the server's confirmation.
pub fn join(devtools: &mut DevTools, page: &Page, room: &str, user: &str) -> Result<(), CdpError> {
    devtools.eval(
        page,
        &format!(
            "document.getElementById('name').value = {user}; document.getElementById('room').value = {room}; \
             document.getElementById('join-form').requestSubmit(); true",
            user = js_string(user),
            room = js_string(room)
        ),
    )?;
    devtools.wait_for(page, &format!("document.body.dataset.joined === {}", js_string(room)), STEP)?;
    Ok(())
}

/// Type `text` into the message box (firing `input`, as typing does) without sending it.
pub fn type_text(devtools: &mut DevTools, page: &Page, text: &str) -> Result<(), CdpError> {
    devtools.eval(
        page,
        &format!(
            "(() => {{ const box = document.getElementById('text'); box.value = {}; \
             box.dispatchEvent(new Event('input', {{ bubbles: true }})); return true; }})()",
            js_string(text)
        ),
    )?;
    Ok(())
}

/// Type `text` and press Send.
pub fn say(devtools: &mut DevTools, page: &Page, text: &str) -> Result<(), CdpError> {
    type_text(devtools, page, text)?;
    devtools.eval(page, "document.getElementById('send-form').requestSubmit(); true")?;
    Ok(())
}

/// Whether a message bubble from someone else with exactly `text` is on the page.
pub fn shows_message(text: &str) -> String {
    format!("{} > 0", count_from_others(text))
}

/// Whether exactly one message bubble from someone else with exactly `text` is on the page.
pub fn shows_once(text: &str) -> String {
    format!("{} === 1", count_from_others(text))
}

fn count_from_others(text: &str) -> String {
    format!(
        "[...document.querySelectorAll('#messages .msg:not(.mine) .text')].filter(e => e.textContent === {}).length",
        js_string(text)
    )
}

/// Whether the member list shows exactly `names`, in that order.
pub fn members_are(names: &[&str]) -> String {
    let wanted: Vec<String> = names.iter().map(|name| js_string(name)).collect();
    format!(
        "JSON.stringify([...document.querySelectorAll('#members li span:last-child')].map(e => e.textContent.replace(' (you)', ''))) === JSON.stringify([{}])",
        wanted.join(",")
    )
}

/// Whether the member list has `count` entries.
pub fn member_count_is(count: usize) -> String {
    format!("document.querySelectorAll('#members li').length === {count}")
}

/// Whether the room list shows these rooms with these counts (other rooms may be listed too).
pub fn room_counts_are(counts: &[(&str, u64)]) -> String {
    let checks: Vec<String> =
        counts.iter().map(|(room, count)| format!("r[{}] === '{count}'", js_string(room))).collect();
    format!(
        "(() => {{ const r = {{}}; for (const li of document.querySelectorAll('#rooms li')) \
         r[li.dataset.room] = li.querySelector('.count').textContent; return {}; }})()",
        checks.join(" && ")
    )
}
