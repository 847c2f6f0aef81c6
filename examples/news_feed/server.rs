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
//! With a backplane ([`NewsFeed::with_backplane`], `--redis URL` on the command line) the feed
//! is one node of a cluster: posts, likes and "your post was liked" travel between nodes on the
//! same channels, and every node keeps the posts it hears about (its own and the others') for
//! the welcome of its newcomers. Post ids stay unique across nodes: each node numbers its own
//! posts in steps of 1024 plus a tag of its own (two nodes share a tag with probability 1/1024
//! each; a demo accepts that). The store is each node's, so a node started later knows only the
//! posts published since it started.
//!
//! Messages are JSON objects with a `type`:
//! - client → server: `{"type":"post","text":…}`, `{"type":"like","id":…}`
//! - server → client: `welcome` (your name and the recent posts), `post` (a new post),
//!   `likes` (a post's new like count), `liked` (your post was liked: id, by whom, its text),
//!   `error` (what was wrong with your last message).

#[path = "../common/broker.rs"]
pub mod broker;
#[path = "../common/inspector.rs"]
pub mod inspector;
#[path = "../common/web.rs"]
pub mod web;

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rfc6455::blocking::Decision;
use rfc6455::handshake::Request;
use serde_json::{Value, json};

use broker::backplane::Backplane;
use broker::{ClientChannels, MessageBroker};
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
    /// A post as another node published it, or `None` if it is not one.
    fn from_json(value: &Value) -> Option<Post> {
        Some(Post {
            id: value.get("id")?.as_u64()?,
            author: value.get("author")?.as_str()?.to_owned(),
            text: value.get("text")?.as_str()?.to_owned(),
            posted_at: value.get("at")?.as_u64()?,
            likers: BTreeSet::new(),
        })
    }

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
    /// The last number this node gave a post (ids are `number * 1024 + tag`).
    next_id: u64,
    /// This node's tag: 0 on its own, 0..1024 in a cluster.
    tag: u64,
}

impl Posts {
    /// Keep `post` unless it is known already (a node hears its own posts back).
    fn keep(&mut self, post: Post) -> bool {
        if self.posts.iter().any(|known| known.id == post.id) {
            return false;
        }
        // Number after the highest post seen, so ids keep growing across the cluster.
        self.next_id = self.next_id.max(post.id / 1024);
        let at = self.posts.iter().rposition(|known| known.id < post.id).map_or(0, |i| i + 1);
        self.posts.insert(at, post);
        if self.posts.len() > MAX_POSTS {
            self.posts.pop_front();
        }
        true
    }
}

/// The news feed: posts in memory, and the broker that fans messages out.
#[derive(Debug, Default)]
pub struct NewsFeed {
    posts: Arc<Mutex<Posts>>,
    broker: Arc<MessageBroker<String>>,
}

/// One connected client.
pub struct Session {
    client: Client,
    name: String,
    /// The feed and the client's own channel, forwarding to it; held for its drop, which
    /// unsubscribes both.
    _subscriptions: ClientChannels<String>,
}

impl NewsFeed {
    /// An empty feed, on its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty feed that is one node of the cluster `backplane` joins.
    pub fn with_backplane(backplane: Arc<dyn Backplane>) -> Self {
        let tag =
            backplane.node().bytes().fold(0u64, |hash, b| hash.wrapping_mul(31).wrapping_add(u64::from(b))) % 1024;
        let posts = Arc::new(Mutex::new(Posts { tag, ..Posts::default() }));
        let broker = MessageBroker::with_backplane(backplane);
        // The store listens to the feed like a client does: other nodes' posts and likes land
        // in it (this node's own are there already and are skipped).
        let store = Arc::clone(&posts);
        let _kept_for_life = broker.subscribe(FEED, move |_, message: &String| {
            let Ok(event) = serde_json::from_str::<Value>(message) else { return };
            let mut posts = store.lock().unwrap_or_else(PoisonError::into_inner);
            match event.get("type").and_then(Value::as_str) {
                Some("post") => {
                    if let Some(post) = Post::from_json(&event["post"]) {
                        posts.keep(post);
                    }
                }
                Some("likes") => {
                    let (Some(id), Some(by)) = (event["id"].as_u64(), event["by"].as_str()) else { return };
                    if let Some(post) = posts.posts.iter_mut().find(|post| post.id == id) {
                        post.likers.insert(by.to_owned());
                    }
                }
                _ => {}
            }
        });
        NewsFeed { posts, broker }
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
                id: if posts.tag == 0 && self.broker.is_alone() {
                    posts.next_id
                } else {
                    posts.next_id * 1024 + posts.tag
                },
                author: session.name.clone(),
                text: text.to_owned(),
                posted_at: now_millis(),
                likers: BTreeSet::new(),
            };
            posts.keep(post.clone());
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
        // `by` lets the other nodes' stores count the like too.
        self.broker.publish(FEED, json!({"type": "likes", "id": id, "likes": likes, "by": session.name}).to_string());
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
        let mut subscriptions = ClientChannels::new(&self.broker);
        for channel in [FEED.to_string(), Self::user_channel(&name)] {
            let sink = client.clone();
            subscriptions.subscribe(&channel, move |_, message: &String| {
                sink.send_text(message.as_str());
            });
        }
        client.send_text(json!({"type": "welcome", "you": name, "posts": self.recent()}).to_string());
        Session { client, name, _subscriptions: subscriptions }
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
        // Dropping the session's channels unsubscribes them all.
        drop(session);
    }
}

fn reply_error(session: &Session, message: &str) {
    session.client.send_text(json!({"type": "error", "message": message}).to_string());
}

fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Serve the feed on `server` until `stopper` stops it.
#[allow(dead_code)] // The tests use it; the example passes its own feed.
pub fn run(server: rfc6455::blocking::Server, stopper: web::Stopper) -> std::io::Result<()> {
    run_with(server, stopper, NewsFeed::new())
}

/// Serve `feed` (on its own or a node of a cluster) on `server` until `stopper` stops it.
pub fn run_with(server: rfc6455::blocking::Server, stopper: web::Stopper, feed: NewsFeed) -> std::io::Result<()> {
    web::serve(server, Arc::new(feed), stopper)
}
