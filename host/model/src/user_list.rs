//! User lists: accounts a user picked, read as a timeline of their own.

/// A list, with its members' ids (oldest membership first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserList {
    pub id: String,
    /// Whose list it is.
    pub user_id: String,
    pub name: String,
    /// Others may see it, favourite it and copy it.
    pub is_public: bool,
    pub created_at: i64,
    pub member_ids: Vec<String>,
}

/// A member of a list as its timeline weighs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMember {
    pub user_id: String,
    /// Their replies to third persons are shown too (Misskey's per-member `withReplies`).
    pub with_replies: bool,
}

/// A membership as `users/lists/get-memberships` pages it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMembership {
    /// Time-ordered, for paging.
    pub id: String,
    pub list_id: String,
    pub user_id: String,
    pub with_replies: bool,
    pub created_at: i64,
}

/// What became of a request to add someone to a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAdded {
    Added,
    AlreadyMember,
    /// The list holds as many members as it may.
    ListFull,
}
