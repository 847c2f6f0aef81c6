//! The news feed server: the three ways messages flow over WebSockets, side by side.
//!
//! - **Client → server**: a client writes a post, or likes one.
//! - **Server → many**: every connected client receives each new post and each new like count.
//! - **Server → one**: only the author of a liked post receives "your post was liked".
//!
//! Both fan-outs go through one [`MessageBroker`]: every client subscribes to the `feed`
//! channel and to its own `user/<name>` channel, so "to everyone" and "to the author" are the
//! same `publish` on different channels. The page is served on the same port at `/`, the
//! WebSocket at `/ws?name=<who>`.
//!
//! Messages are JSON objects with a `type`:
//! - client → server: `{"type":"post","text":…}`, `{"type":"like","id":…}`
//! - server → client: `welcome` (your name and the recent posts), `post` (a new post),
//!   `likes` (a post's new like count), `liked` (your post was liked: id, by whom, its text),
//!   `error` (what was wrong with your last message).

#[path = "../common/broker.rs"]
pub mod broker;
#[path = "../common/web.rs"]
pub mod web;

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rfc6455::blocking::Decision;
use rfc6455::handshake::Request;
use serde_json::{Value, json};

use broker::{MessageBroker, SubscriptionId};
use web::{Client, Handler};

/// The page, with its CSS and JavaScript inline.
const PAGE: &str = include_str!("page.html");
/// Posts kept in memory; older ones are forgotten.
const MAX_POSTS: usize = 200;
/// Posts a newly connected client is sent.
const RECENT_POSTS: usize = 50;
/// Longest post, in characters.
const MAX_POST_CHARS: usize = 280;
/// Longest user name, in characters.
const MAX_NAME_CHARS: usize = 24;
/// The channel every client subscribes to.
const FEED: &str = "feed";

/// One post and who liked it.
#[derive(Debug, Clone)]
struct Post {
    id: u64,
    author: String,
    text: String,
    /// Milliseconds since the Unix epoch.
    posted_at: u64,
    likers: BTreeSet<String>,
}

impl Post {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "author": self.author,
            "text": self.text,
            "at": self.posted_at,
            "likes": self.likers.len(),
        })
    }
}

#[derive(Debug, Default)]
struct Posts {
    /// Oldest first.
    posts: VecDeque<Post>,
    next_id: u64,
}

/// The news feed: posts in memory, and the broker that fans messages out.
#[derive(Debug, Default)]
pub struct NewsFeed {
    posts: Mutex<Posts>,
    broker: MessageBroker<String>,
}

/// One connected client.
pub struct Session {
    client: Client,
    name: String,
    subscriptions: Vec<(String, SubscriptionId)>,
}

impl NewsFeed {
    /// An empty feed.
    pub fn new() -> Self {
        Self::default()
    }

    fn user_channel(name: &str) -> String {
        format!("user/{name}")
    }

    /// A client posts `text`: store it and send it to everyone.
    fn post(&self, session: &Session, text: &str) -> Result<(), String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("a post needs some text".into());
        }
        if text.chars().count() > MAX_POST_CHARS {
            return Err(format!("a post is at most {MAX_POST_CHARS} characters"));
        }
        let post = {
            let mut posts = self.posts.lock().unwrap_or_else(PoisonError::into_inner);
            posts.next_id += 1;
            let post = Post {
                id: posts.next_id,
                author: session.name.clone(),
                text: text.to_owned(),
                posted_at: now_millis(),
                likers: BTreeSet::new(),
            };
            posts.posts.push_back(post.clone());
            if posts.posts.len() > MAX_POSTS {
                posts.posts.pop_front();
            }
            post
        };
        self.broker.publish(FEED, json!({"type": "post", "post": post.to_json()}).to_string());
        Ok(())
    }

    /// A client likes post `id`: count it, tell everyone the new count, tell the author.
    fn like(&self, session: &Session, id: u64) -> Result<(), String> {
        let (likes, author, text) = {
            let mut posts = self.posts.lock().unwrap_or_else(PoisonError::into_inner);
            let post = posts.posts.iter_mut().find(|post| post.id == id).ok_or("no such post")?;
            if !post.likers.insert(session.name.clone()) {
                return Err("you already liked that post".into());
            }
            (post.likers.len(), post.author.clone(), post.text.clone())
        };
        self.broker.publish(FEED, json!({"type": "likes", "id": id, "likes": likes}).to_string());
        // Liking your own post is counted, but telling you about it would be noise.
        if author != session.name {
            let notice = json!({"type": "liked", "id": id, "by": session.name, "text": text, "likes": likes});
            self.broker.publish(&Self::user_channel(&author), notice.to_string());
        }
        Ok(())
    }

    /// The most recent posts, newest first.
    fn recent(&self) -> Vec<Value> {
        let posts = self.posts.lock().unwrap_or_else(PoisonError::into_inner);
        posts.posts.iter().rev().take(RECENT_POSTS).map(Post::to_json).collect()
    }
}

impl Handler for NewsFeed {
    type Session = Session;

    fn decide(&self, request: &Request) -> Decision {
        match (web::path_only(&request.path), request.is_websocket_upgrade()) {
            ("/ws", true) => Decision::accept(),
            ("/", false) => web::html_response(PAGE),
            _ => web::not_found(),
        }
    }

    fn open(&self, client: Client, path: &str) -> Session {
        let name = web::query_param(path, "name")
            .map(|name| name.trim().chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect::<String>())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| format!("guest-{}", client.id()));
        // Subscribe before sending the welcome, so no post falls between the two.
        let mut subscriptions = Vec::new();
        for channel in [FEED.to_string(), Self::user_channel(&name)] {
            let sink = client.clone();
            let id = self.broker.subscribe(&channel, move |_, message: &String| {
                sink.send_text(message.as_str());
            });
            subscriptions.push((channel, id));
        }
        client.send_text(json!({"type": "welcome", "you": name, "posts": self.recent()}).to_string());
        Session { client, name, subscriptions }
    }

    fn message(&self, session: &mut Session, text: &str) {
        let request: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(e) => return reply_error(session, &format!("not JSON: {e}")),
        };
        let result = match request.get("type").and_then(Value::as_str) {
            Some("post") => match request.get("text").and_then(Value::as_str) {
                Some(text) => self.post(session, text),
                None => Err("a post needs a \"text\" string".into()),
            },
            Some("like") => match request.get("id").and_then(Value::as_u64) {
                Some(id) => self.like(session, id),
                None => Err("a like needs a numeric \"id\"".into()),
            },
            _ => Err("expected {\"type\":\"post\",\"text\":…} or {\"type\":\"like\",\"id\":…}".into()),
        };
        if let Err(message) = result {
            reply_error(session, &message);
        }
    }

    fn closed(&self, session: Session) {
        for (channel, id) in session.subscriptions {
            self.broker.unsubscribe(&channel, id);
        }
    }
}

fn reply_error(session: &Session, message: &str) {
    session.client.send_text(json!({"type": "error", "message": message}).to_string());
}

fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Serve the feed on `server` until `stopper` stops it.
pub fn run(server: rfc6455::blocking::Server, stopper: web::Stopper) -> std::io::Result<()> {
    web::serve(server, Arc::new(NewsFeed::new()), stopper)
}
