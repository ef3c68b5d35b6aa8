//! Notifications: `i/notifications`, `i/notifications-grouped`, and marking, creating and
//! flushing them.

use schemars::JsonSchema;
use serde::Deserialize;
use tsudoi_core::notifications;
use tsudoi_model::NotificationKind;

use super::{NoParams, Paging};
use crate::api::entities::{GroupedNotification, Notification};
use crate::api::{ApiResult, Ctx, Endpoint, Reply, json};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new("i/notifications", "Your notifications, newest first.", list)
            .credential()
            .kind("read:notifications")
            .per_hour(3_600),
        Endpoint::new(
            "i/notifications-grouped",
            "Your notifications, reactions to one note and renotes of one note next to each \
             other grouped.",
            grouped,
        )
        .credential()
        .kind("read:notifications")
        .per_hour(3_600),
        Endpoint::new(
            "notifications/mark-all-as-read",
            "Marks all your notifications read.",
            mark_all_as_read,
        )
        .credential()
        .kind("write:notifications"),
        Endpoint::new(
            "notifications/create",
            "Sends yourself a notification (what an app tells its user).",
            create,
        )
        .credential()
        .kind("write:notifications")
        .per_hour(600),
        Endpoint::new(
            "notifications/flush",
            "Deletes all your notifications.",
            flush,
        )
        .credential()
        .kind("write:notifications"),
        Endpoint::new(
            "notifications/test-notification",
            "Sends yourself a test notification.",
            test_notification,
        )
        .credential()
        .kind("write:notifications")
        .per_hour(600),
    ]
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    #[serde(flatten)]
    paging: Paging,
    /// Marks every notification read (the default).
    mark_as_read: Option<bool>,
    /// Notification types to list (names this server never makes match nothing).
    include_types: Option<Vec<String>>,
    exclude_types: Option<Vec<String>>,
}

impl ListParams {
    fn kinds(&self) -> Option<Vec<NotificationKind>> {
        let known = |names: &Vec<String>| -> Vec<NotificationKind> {
            names.iter().filter_map(|n| n.parse().ok()).collect()
        };
        notifications::kinds(
            self.include_types.as_ref().map(known),
            self.exclude_types.as_ref().map(known).unwrap_or_default(),
        )
    }

    async fn read(&self, ctx: &Ctx) -> ApiResult<notifications::NotificationPage> {
        let page = self.paging.page(10)?;
        Ok(notifications::page(
            &ctx.core,
            ctx.me()?,
            self.kinds().as_deref(),
            &page,
            self.mark_as_read.unwrap_or(true),
        )
        .await?)
    }
}

async fn list(ctx: Ctx, p: ListParams) -> ApiResult<Reply> {
    let page = p.read(&ctx).await?;
    json(Notification::pack_all(&page, ctx.settings()))
}

async fn grouped(ctx: Ctx, p: ListParams) -> ApiResult<Reply> {
    let mut page = p.read(&ctx).await?;
    let groups = notifications::group(std::mem::take(&mut page.items));
    json(
        groups
            .iter()
            .map(|g| GroupedNotification::pack(g, &page, ctx.settings()))
            .collect::<Vec<_>>(),
    )
}

async fn mark_all_as_read(ctx: Ctx, _: NoParams) -> ApiResult<Reply> {
    notifications::read_all(&ctx.core, ctx.me()?).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize, JsonSchema)]
struct CreateParams {
    body: String,
    header: Option<String>,
    icon: Option<String>,
}

async fn create(ctx: Ctx, p: CreateParams) -> ApiResult<Reply> {
    notifications::create(
        &ctx.core,
        ctx.me()?,
        NotificationKind::App,
        ctx.app.as_ref(),
        p.header,
        Some(p.body),
        p.icon,
    )
    .await?;
    Ok(Reply::NoContent)
}

async fn flush(ctx: Ctx, _: NoParams) -> ApiResult<Reply> {
    notifications::flush(&ctx.core, ctx.me()?).await?;
    Ok(Reply::NoContent)
}

async fn test_notification(ctx: Ctx, _: NoParams) -> ApiResult<Reply> {
    notifications::create(
        &ctx.core,
        ctx.me()?,
        NotificationKind::Test,
        None,
        None,
        None,
        None,
    )
    .await?;
    Ok(Reply::NoContent)
}
