//! Keeping the nodes' copies of users in step. Each node keeps copies of user rows: who a
//! token belongs to (with the user's row), authors as notes show them, compiled word mutes.
//! A change made through a node drops that node's copies at once; [`start`] tells the
//! other nodes too, through the bus, and drops here what they changed. Without it a node
//! would serve a suspended account, an old profile or old mutes until its copies aged out.
//! New notes, which every node hears of anyway, also tell the store's copy of who posted
//! lately, so a home timeline read through one node right after a post through another
//! shows it.

use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tsudoi_model::Event;

use crate::Core;

/// Changes made within this long go to the other nodes as one message: a burst of posts
/// (each changes its author's counters) costs a message, not one per post.
const BATCH_WINDOW: Duration = Duration::from_millis(20);

/// Starts relaying this node's user changes to the other nodes and applying theirs here.
/// Does nothing in one process (no other node to tell).
pub fn start(core: &Core) {
    if !core.bus().is_shared() {
        return;
    }
    let mut changes = core.store().user_changes();
    let out = core.clone();
    tokio::spawn(async move {
        loop {
            let first = match changes.recv().await {
                Ok(id) => id,
                // Missed ids age out on the other nodes (their copies' own limit).
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            };
            tokio::time::sleep(BATCH_WINDOW).await;
            let mut user_ids = vec![first];
            loop {
                match changes.try_recv() {
                    Ok(id) => user_ids.push(id),
                    Err(TryRecvError::Lagged(_)) => continue,
                    Err(_) => break,
                }
            }
            user_ids.sort_unstable();
            user_ids.dedup();
            out.bus().tell_others(Event::UsersChanged { user_ids });
        }
    });
    let mut events = core.events();
    let core = core.clone();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => match &*event {
                    Event::UsersChanged { user_ids } => core.forget_users(user_ids),
                    // Heard before a client of this node can have seen the note streamed.
                    Event::NoteCreated { note_id, user_id } => {
                        core.store().observe_post(user_id, note_id)
                    }
                    _ => {}
                },
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "fell behind other nodes' user changes")
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

impl Core {
    /// Drops every copy this node keeps of `ids`' rows.
    fn forget_users(&self, ids: &[String]) {
        self.store().forget_users(ids);
        for id in ids {
            self.authors().forget(id);
            self.word_filters().forget(id);
        }
    }
}
