//! User lists, their members and who favourited them. Which notes a list's timeline shows
//! is decided in the listings (`NoteSource::List`); here lists are kept.

use tsudoi_model::{ListMember, ListMembership, MemberAdded, UserList};

use super::{Result, Store, StoreError, with_pool};

#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    user_id: String,
    name: String,
    is_public: bool,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    list_id: String,
    user_id: String,
    with_replies: bool,
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    id: String,
    list_id: String,
    user_id: String,
    with_replies: bool,
    created_at: i64,
}

impl From<MembershipRow> for ListMembership {
    fn from(r: MembershipRow) -> Self {
        ListMembership {
            id: r.id,
            list_id: r.list_id,
            user_id: r.user_id,
            with_replies: r.with_replies,
            created_at: r.created_at,
        }
    }
}

const LIST_COLUMNS: &str = "id, user_id, name, is_public, created_at";

impl Store {
    /// Records `list` (without members) unless its owner has `limit` lists already; false
    /// then, writing nothing. The count and the insert are one transaction, so two lists
    /// created at once cannot both pass a count that had room for one.
    pub async fn create_user_list(&self, list: &UserList, limit: i64) -> Result<bool> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            // Creations of one user's lists queue on the owner's row.
            sqlx::query(self.lock_user_sql())
                .bind(&list.user_id)
                .execute(&mut *tx)
                .await?;
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM user_lists WHERE user_id = $1")
                    .bind(&list.user_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if count >= limit {
                return Ok::<_, StoreError>(false);
            }
            sqlx::query(
                "INSERT INTO user_lists (id, user_id, name, is_public, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&list.id)
            .bind(&list.user_id)
            .bind(&list.name)
            .bind(list.is_public)
            .bind(list.created_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The list `id` with its members, if it exists.
    pub async fn user_list(&self, id: &str) -> Result<Option<UserList>> {
        let sql = format!("SELECT {LIST_COLUMNS} FROM user_lists WHERE id = $1");
        let row = with_pool!(&self.read, |p| sqlx::query_as::<_, ListRow>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        let Some(row) = row else { return Ok(None) };
        Ok(self.with_members(vec![row]).await?.pop())
    }

    /// Whose list `id` is, if it exists (without reading its members).
    pub async fn user_list_owner(&self, id: &str) -> Result<Option<String>> {
        Ok(with_pool!(&self.read, |p| {
            sqlx::query_scalar::<_, String>("SELECT user_id FROM user_lists WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await
        })?)
    }

    /// `user_id`'s lists (only the public ones if `only_public`), oldest first, as Misskey
    /// lists them.
    pub async fn user_lists_of(&self, user_id: &str, only_public: bool) -> Result<Vec<UserList>> {
        let public = if only_public { " AND is_public" } else { "" };
        let sql =
            format!("SELECT {LIST_COLUMNS} FROM user_lists WHERE user_id = $1{public} ORDER BY id");
        let rows = with_pool!(&self.read, |p| sqlx::query_as::<_, ListRow>(&sql)
            .bind(user_id)
            .fetch_all(p)
            .await)?;
        self.with_members(rows).await
    }

    async fn with_members(&self, rows: Vec<ListRow>) -> Result<Vec<UserList>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let members: Vec<MemberRow> = with_pool!(&self.read, |p| {
            let sql = format!(
                "SELECT list_id, user_id, with_replies FROM user_list_members \
                 WHERE list_id IN ({}) ORDER BY id",
                super::placeholders(1, ids.len())
            );
            let mut q = sqlx::query_as::<_, MemberRow>(&sql);
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| UserList {
                member_ids: members
                    .iter()
                    .filter(|m| m.list_id == r.id)
                    .map(|m| m.user_id.clone())
                    .collect(),
                id: r.id,
                user_id: r.user_id,
                name: r.name,
                is_public: r.is_public,
                created_at: r.created_at,
            })
            .collect())
    }

    /// The members of list `id` as its timeline weighs them, oldest membership first.
    pub async fn user_list_members(&self, id: &str) -> Result<Vec<ListMember>> {
        let rows = with_pool!(&self.read, |p| {
            sqlx::query_as::<_, MemberRow>(
            "SELECT list_id, user_id, with_replies FROM user_list_members WHERE list_id = $1 ORDER BY id"
        )
        .bind(id)
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|m| ListMember {
                user_id: m.user_id,
                with_replies: m.with_replies,
            })
            .collect())
    }

    /// Renames list `id` and sets whether it is public (each if given).
    pub async fn update_user_list(
        &self,
        id: &str,
        name: Option<&str>,
        is_public: Option<bool>,
    ) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "UPDATE user_lists SET name = COALESCE($2, name), is_public = COALESCE($3, is_public) \
             WHERE id = $1"
        )
        .bind(id)
        .bind(name)
        .bind(is_public)
        .execute(p)
        .await
        .map(drop))?;
        Ok(())
    }

    /// Deletes list `id`, its memberships and favourites.
    pub async fn delete_user_list(&self, id: &str) -> Result<()> {
        with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM user_lists WHERE id = $1"
        )
        .bind(id)
        .execute(p)
        .await
        .map(drop))?;
        Ok(())
    }

    /// Adds `member` to its list unless they are in it already or it holds `limit` members.
    pub async fn add_list_member(
        &self,
        member: &ListMembership,
        owner_id: &str,
        limit: i64,
    ) -> Result<MemberAdded> {
        with_pool!(&self.write, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(self.lock_user_sql())
                .bind(owner_id)
                .execute(&mut *tx)
                .await?;
            let (count, present): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN user_id = $2 THEN 1 ELSE 0 END), 0) \
                 FROM user_list_members WHERE list_id = $1",
            )
            .bind(&member.list_id)
            .bind(&member.user_id)
            .fetch_one(&mut *tx)
            .await?;
            if present > 0 {
                return Ok::<_, StoreError>(MemberAdded::AlreadyMember);
            }
            if count >= limit {
                return Ok(MemberAdded::ListFull);
            }
            sqlx::query(
                "INSERT INTO user_list_members (id, list_id, owner_id, user_id, with_replies, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&member.id)
            .bind(&member.list_id)
            .bind(owner_id)
            .bind(&member.user_id)
            .bind(member.with_replies)
            .bind(member.created_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(MemberAdded::Added)
        })
    }

    /// Takes `user_id` out of list `list_id`; false if they were not in it.
    pub async fn remove_list_member(&self, list_id: &str, user_id: &str) -> Result<bool> {
        let gone = with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM user_list_members WHERE list_id = $1 AND user_id = $2"
        )
        .bind(list_id)
        .bind(user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(gone > 0)
    }

    /// Sets whether the list shows `user_id`'s replies to others; false if they are not in it.
    pub async fn set_list_member_replies(
        &self,
        list_id: &str,
        user_id: &str,
        with_replies: bool,
    ) -> Result<bool> {
        let changed = with_pool!(&self.write, |p| sqlx::query(
            "UPDATE user_list_members SET with_replies = $3 WHERE list_id = $1 AND user_id = $2"
        )
        .bind(list_id)
        .bind(user_id)
        .bind(with_replies)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed > 0)
    }

    /// A page of list `list_id`'s memberships, newest first (oldest first with only
    /// `since_id`).
    pub async fn list_memberships_page(
        &self,
        list_id: &str,
        since_id: Option<&str>,
        until_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ListMembership>> {
        let rows: Vec<MembershipRow> = self
            .page_by_id(
                "user_list_members",
                "id, list_id, user_id, with_replies, created_at",
                "list_id",
                list_id,
                since_id,
                until_id,
                limit,
            )
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Marks list `list_id` a favourite of `user_id`; false if it already was.
    pub async fn favorite_user_list(&self, list_id: &str, user_id: &str, now: i64) -> Result<bool> {
        let added = with_pool!(&self.write, |p| {
            sqlx::query(
            "INSERT INTO user_list_favorites (list_id, user_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING"
        )
        .bind(list_id)
        .bind(user_id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(added == 1)
    }

    /// Takes list `list_id` from `user_id`'s favourites; false if it was not one.
    pub async fn unfavorite_user_list(&self, list_id: &str, user_id: &str) -> Result<bool> {
        let gone = with_pool!(&self.write, |p| sqlx::query(
            "DELETE FROM user_list_favorites WHERE list_id = $1 AND user_id = $2"
        )
        .bind(list_id)
        .bind(user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(gone > 0)
    }

    /// How many favourited list `list_id`, and whether `user_id` (if any) is one of them.
    pub async fn user_list_likes(
        &self,
        list_id: &str,
        user_id: Option<&str>,
    ) -> Result<(i64, bool)> {
        let (count, mine): (i64, i64) = with_pool!(&self.read, |p| sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN user_id = $2 THEN 1 ELSE 0 END), 0) \
             FROM user_list_favorites WHERE list_id = $1"
        )
        .bind(list_id)
        .bind(user_id.unwrap_or(""))
        .fetch_one(p)
        .await)?;
        Ok((count, mine > 0))
    }
}
