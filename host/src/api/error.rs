//! API errors in Misskey's shape: `{"error":{"message","code","id","kind","info"?}}`.
//!
//! Codes and ids are Misskey's, so clients that match on them (the Misskey web UI matches on
//! `id`) behave the same. Status codes follow our contract: 400 bad parameters, 401 missing or
//! bad credentials, 403 forbidden, 404 missing objects, 429 rate limited, 500 our fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use tsudoi_core as core;

/// What an error adds beside its code (Misskey's `info`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ErrorInfo {
    /// Which parameter was wrong, and why.
    Param { param: String, reason: String },
    /// When a rate-limited client may try again.
    RateLimit {
        #[serde(rename = "resetMs")]
        reset_ms: u64,
    },
    /// Why a request was refused.
    Reason { reason: String },
}

/// Boxed so that `Result<T, ApiError>` stays one pointer wide on the happy path.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ApiErrorBody>);

#[derive(Debug, Clone)]
pub struct ApiErrorBody {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub id: &'static str,
    pub kind: &'static str,
    pub info: Option<ErrorInfo>,
    /// Seconds until a rate-limited client may retry (sent as `Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        id: &'static str,
    ) -> Self {
        let kind = match status.as_u16() {
            403 => "permission",
            500.. => "server",
            _ => "client",
        };
        Self(Box::new(ApiErrorBody {
            status,
            code,
            message: message.into(),
            id,
            kind,
            info: None,
            retry_after: None,
        }))
    }

    pub fn with_info(mut self, info: ErrorInfo) -> Self {
        self.0.info = Some(info);
        self
    }

    pub fn invalid_param(param: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAM",
            "Invalid param.",
            "3d81ceae-475f-4600-b2a8-2bc116157532",
        )
        .with_info(ErrorInfo::Param {
            param: param.to_owned(),
            reason: reason.to_string(),
        })
    }

    pub fn credential_required() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "CREDENTIAL_REQUIRED",
            "Credential required.",
            "1384574d-a912-4b81-8601-c7b1c4085df1",
        )
    }

    pub fn authentication_failed() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_FAILED",
            "Authentication failed. Please ensure your token is correct.",
            "b0a7f5f8-dc2f-4171-b91f-de88ad238e14",
        )
    }

    pub fn permission_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Your app does not have the necessary permissions to use this endpoint.",
            "1370e5b7-d4eb-4566-bb1d-7748ee6a1838",
        )
    }

    pub fn access_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ACCESS_DENIED",
            "Access denied.",
            "56f35758-7dd5-468b-8439-5d6fb8ec9b8e",
        )
    }

    /// Misskey's answer to a non-administrator calling an admin endpoint.
    pub fn admin_only() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ROLE_PERMISSION_DENIED",
            "You are not assigned to an administrator role.",
            "c3d38592-54c0-429d-be96-5636b0431a61",
        )
    }

    pub fn suspended() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "YOUR_ACCOUNT_SUSPENDED",
            "Your account has been suspended.",
            "a8c724b3-6e9c-4b46-b1a8-bc3ed6258370",
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMIT_EXCEEDED",
            "Rate limit exceeded. Please try again later.",
            "d5826d14-3982-4d2e-8011-b9e9f02499ef",
        )
        .with_info(ErrorInfo::RateLimit {
            reset_ms: retry_after_secs * 1000,
        })
        .with_retry_after(retry_after_secs)
    }

    fn with_retry_after(mut self, secs: u64) -> Self {
        self.0.retry_after = Some(secs);
        self
    }

    pub fn unknown_endpoint() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "UNKNOWN_API_ENDPOINT",
            "Unknown API endpoint.",
            "2ca3b769-540a-4f08-9dd5-b5a825b6d0f1",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "Use POST with a JSON body for this endpoint.",
            "0e2b6a19-7c3e-4b7b-9a0c-5f1f8d7c2e11",
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "The request body is too large.",
            "5c2b1f4e-8a0e-4f7e-9d1a-6b3c2d1e0f9a",
        )
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        // The detail goes to the log, not to the client.
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Internal error occurred. Please contact us if the error persists.",
            "5d37dbcb-891e-41ca-a3d6-e690c97775ac",
        )
    }

    /// `ap/show` found nothing it could show at that address.
    pub fn no_such_object() -> Self {
        Self::bad(
            "NO_SUCH_OBJECT",
            "No such object.",
            "dc94d745-1262-4e63-a17d-fecaa57efc82",
        )
    }

    /// `i/registry/get` and `get-detail` found no such key (each has its own id).
    pub fn no_such_registry_key(id: &'static str) -> Self {
        Self::bad("NO_SUCH_KEY", "No such key.", id)
    }

    fn not_found(code: &'static str, message: &'static str, id: &'static str) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message, id)
    }

    fn bad(code: &'static str, message: impl Into<String>, id: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message, id)
    }

    fn forbidden(code: &'static str, message: impl Into<String>, id: &'static str) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message, id)
    }
}

impl From<core::Error> for ApiError {
    fn from(e: core::Error) -> Self {
        use core::Error as E;
        match e {
            E::InvalidParam { param, reason } => ApiError::invalid_param(param, reason),
            E::NoSuchUser => Self::not_found(
                "NO_SUCH_USER",
                "No such user.",
                "4362f8dc-731f-4ad8-a694-be5a88922a24",
            ),
            E::NoSuchNote => Self::not_found(
                "NO_SUCH_NOTE",
                "No such note.",
                "24fcbfc6-2e37-42b6-8388-c29b3861a08d",
            ),
            E::NoSuchReplyTarget => Self::not_found(
                "NO_SUCH_REPLY_TARGET",
                "No such reply target.",
                "749ee0f6-d3da-459a-bf02-282e2da4292c",
            ),
            E::NoSuchRenoteTarget => Self::not_found(
                "NO_SUCH_RENOTE_TARGET",
                "No such renote target.",
                "b5c90186-4ab0-49c8-9bba-a1f76c282ba4",
            ),
            E::CannotReplyToPureRenote => Self::bad(
                "CANNOT_REPLY_TO_A_PURE_RENOTE",
                "You can not reply to a pure Renote.",
                "3ac74a84-8fd5-4bb0-870f-01804f82ce15",
            ),
            E::CannotRenoteToPureRenote => Self::bad(
                "CANNOT_RENOTE_TO_A_PURE_RENOTE",
                "You can not Renote a pure Renote.",
                "fd4cc33e-2a37-48dd-99cc-9b806eb2031a",
            ),
            E::CannotRenoteDueToVisibility => Self::bad(
                "CANNOT_RENOTE_DUE_TO_VISIBILITY",
                "You can not Renote due to target visibility.",
                "be9529e9-fe72-4de0-ae43-0b363c4938af",
            ),
            E::CannotReplyWithExtendedVisibility => Self::bad(
                "CANNOT_REPLY_TO_SPECIFIED_VISIBILITY_NOTE_WITH_EXTENDED_VISIBILITY",
                "You cannot reply to a specified visibility note with extended visibility.",
                "ed940410-535c-4d5e-bfa3-af798671e93c",
            ),
            E::TextTooLong { max } => {
                ApiError::invalid_param("text", format!("must NOT have more than {max} characters"))
            }
            E::PollTooFewChoices => {
                ApiError::invalid_param("poll.choices", "must NOT have fewer than 2 items")
            }
            E::PollAlreadyExpired => Self::bad(
                "CANNOT_CREATE_ALREADY_EXPIRED_POLL",
                "Poll is already expired.",
                "04da457d-b083-4055-9082-955525eda5a5",
            ),
            E::EmptyNote => {
                ApiError::invalid_param("text", "a note needs text, a renote or a poll")
            }
            E::TooManyMentions => Self::bad(
                "CONTAINS_TOO_MANY_MENTIONS",
                "Cannot post because it exceeds the allowed number of mentions.",
                "4de0363a-3046-481b-9b0f-feff3e211025",
            ),
            E::AccessDenied => Self::forbidden(
                "ACCESS_DENIED",
                "Access denied.",
                "fe8d7103-0ea8-4ec3-814d-f8b401dc69e9",
            ),
            E::AlreadyFollowing => Self::bad(
                "ALREADY_FOLLOWING",
                "You are already following that user.",
                "35387507-38c7-4cb9-9197-300b93783fa0",
            ),
            E::NotFollowing => Self::bad(
                "NOT_FOLLOWING",
                "You are not following that user.",
                "5dbf82f5-c92b-40b1-87d1-6c8c0741fd09",
            ),
            E::FolloweeIsYourself => Self::bad(
                "FOLLOWEE_IS_YOURSELF",
                "Followee is yourself.",
                "26fbe7bb-a331-4857-af17-205b426669a9",
            ),
            E::FolloweeIsYourselfUnfollow => Self::bad(
                "FOLLOWEE_IS_YOURSELF",
                "Followee is yourself.",
                "d9e400b9-36b0-4808-b1d8-79e707f1296c",
            ),
            E::NoFollowRequest => Self::not_found(
                "NO_FOLLOW_REQUEST",
                "No follow request.",
                "bcde4f8b-0913-4614-8881-614e522fb041",
            ),
            E::Blocking => Self::bad(
                "BLOCKING",
                "You are blocking that user.",
                "4e2206ec-aa4f-4960-b865-6c23ac38e2d9",
            ),
            E::Blocked => Self::bad(
                "BLOCKED",
                "You are blocked by that user.",
                "c4ab57cc-4e41-45e9-bfd9-584f61e35ce0",
            ),
            E::YouHaveBeenBlocked(what) => {
                let (message, id) = match what {
                    core::Interaction::Note => (
                        "You have been blocked by this user.",
                        "b390d7e1-8a5e-46ed-b625-06271cafd3d3",
                    ),
                    core::Interaction::React => (
                        "You cannot react this note because you have been blocked by this user.",
                        "20ef5475-9f38-4e4c-bd33-de6d979498ec",
                    ),
                    core::Interaction::Vote => (
                        "You cannot vote this poll because you have been blocked by this user.",
                        "85a5377e-b1e9-4617-b0b9-5bea73331e49",
                    ),
                    core::Interaction::List => (
                        "You have been blocked by that user.",
                        "990232c5-3f9d-4d83-9f3f-ef27b6332a4b",
                    ),
                };
                Self::bad("YOU_HAVE_BEEN_BLOCKED", message, id)
            }
            E::BlockeeIsYourself => Self::bad(
                "BLOCKEE_IS_YOURSELF",
                "Blockee is yourself.",
                "88b19138-f28d-42c0-8499-6a31bbd0fdc6",
            ),
            E::BlockeeIsYourselfUnblock => Self::bad(
                "BLOCKEE_IS_YOURSELF",
                "Blockee is yourself.",
                "06f6fac6-524b-473c-a354-e97a40ae6eac",
            ),
            E::AlreadyBlocking => Self::bad(
                "ALREADY_BLOCKING",
                "You are already blocking that user.",
                "787fed64-acb9-464a-82eb-afbd745b9614",
            ),
            E::NotBlocking => Self::bad(
                "NOT_BLOCKING",
                "You are not blocking that user.",
                "291b2efa-60c6-45c0-9f6a-045c8f9b02cd",
            ),
            // `mute/create`'s and `mute/delete`'s ids; the renote mutes have their own
            // (see `endpoints::mutes`).
            E::MuteeIsYourself => Self::bad(
                "MUTEE_IS_YOURSELF",
                "Mutee is yourself.",
                "a4619cb2-5f23-484b-9301-94c903074e10",
            ),
            E::AlreadyMuting => Self::bad(
                "ALREADY_MUTING",
                "You are already muting that user.",
                "7e7359cb-160c-4956-b08f-4d1c653cd007",
            ),
            E::NotMuting => Self::bad(
                "NOT_MUTING",
                "You are not muting that user.",
                "5467d020-daa9-4553-81e1-135c0c35a96d",
            ),
            E::UsernameTaken => Self::bad(
                "DUPLICATED_USERNAME",
                "This username is already taken.",
                "b6ac8d4a-7dfa-4ab6-9e6c-95b0a5d3d8f2",
            ),
            E::InvalidUsername(reason) => {
                ApiError::invalid_param("username", reason).with_code("INVALID_USERNAME")
            }
            E::RegistrationClosed => Self::forbidden(
                "REGISTRATION_CLOSED",
                "Registration is closed on this server.",
                "d4a5bc43-2a37-4c5a-a1ee-2f2f1c0dc7a1",
            ),
            E::InvalidInvitationCode => Self::forbidden(
                "INVALID_INVITATION_CODE",
                "A valid invitation code is required.",
                "a8b1a1e2-76f6-4a4b-b2f1-7d8e1f3c4b5a",
            ),
            E::RateLimited { retry_after_secs } => ApiError::rate_limited(retry_after_secs),
            E::NoSuchFlag => Self::not_found(
                "NO_SUCH_FLAG",
                "No such unresolved flag.",
                "9d3b7c1e-4f2a-4e8b-b5d6-0a1c2e3f4a5b",
            ),
            E::SigninFailed => Self::forbidden(
                "INCORRECT_CREDENTIALS",
                "Incorrect username or password.",
                "932c904e-9460-45b7-9ce6-7ed33be7eb2c",
            ),
            E::InvalidChoice => Self::bad(
                "INVALID_CHOICE",
                "Choice ID is invalid.",
                "e0cc9a04-f2e8-41e4-a5f1-4127293260cc",
            ),
            E::AlreadyVoted => Self::bad(
                "ALREADY_VOTED",
                "You have already voted.",
                "0963fc77-efac-419b-9424-b391608dc6d8",
            ),
            E::PollEnded => Self::bad(
                "ALREADY_EXPIRED",
                "The poll is already expired.",
                "1022a357-b085-4054-9083-8f8de358337e",
            ),
            E::NoPoll => Self::bad(
                "NO_POLL",
                "The note does not attach a poll.",
                "5f979967-52d9-4314-a911-1c673727f92f",
            ),
            E::NoSuchApp => Self::not_found(
                "NO_SUCH_APP",
                "No such app.",
                "92f93e63-428e-4f2f-a5a4-39e1407fe998",
            ),
            E::NoSuchSession => Self::not_found(
                "NO_SUCH_SESSION",
                "No such session.",
                "bd72c97d-eba7-4adb-a467-f171b8847250",
            ),
            E::PendingSession => Self::bad(
                "PENDING_SESSION",
                "This session is not completed yet.",
                "8c8a4145-02cc-4cca-8e66-29ba60445a8e",
            ),
            E::NoSuchPlugin => Self::not_found(
                "NO_SUCH_PLUGIN",
                "No such plugin.",
                "6f0f5d0e-7a43-4b8e-9a3c-2d1b4c7e8f90",
            ),
            E::PluginRefused(reason) => Self::bad(
                "INVALID_PLUGIN",
                format!("The plugin cannot be used: {reason}"),
                "2c9e41a7-5b0d-4f6e-8c13-9d7a0e6b5f21",
            ),
            E::RejectedByPlugin { plugin, reason } => Self::bad(
                "REJECTED_BY_MODERATION",
                format!("The note was rejected by the moderation plugin {plugin}: {reason}"),
                "0b9a0a8e-3c4c-4d2f-9f51-6a0f7c1d2e3b",
            ),
            E::NoSuchEmoji => Self::not_found(
                "NO_SUCH_EMOJI",
                "No such emoji.",
                "be83669b-773a-44b7-b1f8-e5e5170ac3c2",
            ),
            E::EmojiNameTaken => Self::bad(
                "DUPLICATE_NAME",
                "There is already an emoji with this name.",
                "f7a3462c-4e6e-4069-8421-b9bd4f4c3975",
            ),
            E::InvalidImage(reason) => ApiError::invalid_param("file", reason),
            E::AlreadyReacted => Self::bad(
                "ALREADY_REACTED",
                "You are already reacting to that note.",
                "71efcf98-86d6-4e2b-b2ad-9d032369366b",
            ),
            E::NotReacted => Self::bad(
                "NOT_REACTED",
                "You are not reacting to that note.",
                "92f4426d-4196-4125-aa5b-02943e2ec8fc",
            ),
            E::CannotReactToRenote => Self::bad(
                "CANNOT_REACT_TO_RENOTE",
                "You cannot react to Renote.",
                "eaccdc08-ddef-43fe-908f-d108faad57f5",
            ),
            // The drive's errors, with `drive/files/create`'s and `show`'s ids (endpoints
            // whose Misskey ids differ map them themselves).
            E::NoSuchFile => Self::bad(
                "NO_SUCH_FILE",
                "No such file.",
                "067bc436-2718-4795-b0fb-ecbe43949e31",
            ),
            E::NoSuchFolder => Self::bad(
                "NO_SUCH_FOLDER",
                "No such folder.",
                "d74ab9eb-bb09-4bba-bf24-fb58f761e1e9",
            ),
            E::NoSuchParentFolder => Self::bad(
                "NO_SUCH_PARENT_FOLDER",
                "No such parent folder.",
                "ce104e3a-faaf-49d5-b459-10ff0cbbcaa1",
            ),
            E::RecursiveNesting => Self::bad(
                "RECURSIVE_NESTING",
                "It can not be structured like nesting folders recursively.",
                "dbeb024837894013aed44279f9199740",
            ),
            E::HasChildFilesOrFolders => Self::bad(
                "HAS_CHILD_FILES_OR_FOLDERS",
                "This folder has child files or folders.",
                "b0fc8a17-963c-405d-bfbc-859a487295e1",
            ),
            E::InvalidFileName => Self::bad(
                "INVALID_FILE_NAME",
                "Invalid file name.",
                "f449b209-0c60-4e51-84d5-29486263bfd4",
            ),
            E::FileTooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "MAX_FILE_SIZE_EXCEEDED",
                "Cannot upload the file because it exceeds the maximum file size.",
                "b9d8c348-33f0-4673-b9a9-5d4da058977a",
            ),
            E::UnallowedFileType => Self::bad(
                "UNALLOWED_FILE_TYPE",
                "Cannot upload the file because it is an unallowed file type.",
                "4becd248-7f2c-48c4-a9f0-75edc4f9a1ea",
            ),
            E::NoFreeSpace => Self::bad(
                "NO_FREE_SPACE",
                "Cannot upload the file because you have no free space of drive.",
                "d08dbc37-a6a9-463a-8c47-96c32ab5f064",
            ),
            E::BadFile(reason) => Self::bad(
                "INVALID_FILE",
                format!("The file cannot be used: {reason}"),
                "3b1bd5a2-6f0e-4c57-9d8e-2a4c1f7e0b93",
            ),
            E::RangeNotSatisfiable => Self::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "RANGE_NOT_SATISFIABLE",
                "The requested range is outside the file.",
                "8e0f5c61-4d2b-4a79-b3c6-0f1e2d3c4b5a",
            ),
            E::InvalidRegexp => Self::bad(
                "INVALID_REGEXP",
                "Invalid Regular Expression.",
                "0d786918-10df-41cd-8f33-8dec7d9a89a5",
            ),
            E::TooManyMutedWords => Self::bad(
                "TOO_MANY_MUTED_WORDS",
                "Too many muted words.",
                "010665b1-a211-42d2-bc64-8f6609d79785",
            ),
            E::SearchUnavailable => Self::bad(
                "UNAVAILABLE",
                "Search unavailable.",
                "0b44998d-77aa-4427-80d0-d2c9b8523011",
            ),
            E::NoSuchHashtag => Self::bad(
                "NO_SUCH_HASHTAG",
                "No such hashtag.",
                "110ee688-193e-4a3a-9ecf-c167b2e6981e",
            ),
            E::AlreadyFavorited => Self::bad(
                "ALREADY_FAVORITED",
                "The note has already been marked as a favorite.",
                "a402c12b-34dd-41d2-97d8-4d2ffd96a1a6",
            ),
            E::NotFavorited => Self::bad(
                "NOT_FAVORITED",
                "You have not marked that note a favorite.",
                "b625fc69-635e-45e9-86f4-dbefbef35af5",
            ),
            // Misskey gives these an id per endpoint; these are the ids of `users/lists/show`,
            // `create` and `push`, and the list endpoints swap in their own.
            E::NoSuchList => Self::bad(
                "NO_SUCH_LIST",
                "No such list.",
                "7bc05c21-1d7a-41ae-88f1-66820f4dc686",
            ),
            E::TooManyUserLists => Self::bad(
                "TOO_MANY_USERLISTS",
                "You cannot create user list any more.",
                "0cf21a28-7715-4f39-a20d-777bfdb8d138",
            ),
            E::AlreadyAdded => Self::bad(
                "ALREADY_ADDED",
                "That user has already been added to that list.",
                "1de7c884-1595-49e9-857e-61f12f4d4fc5",
            ),
            E::TooManyUsers => Self::bad(
                "TOO_MANY_USERS",
                "You can not push users any more.",
                "2dd9752e-a338-413d-8eec-41814430989b",
            ),
            // Misskey answers this with an internal error; a client that knows NO_SUCH_USER
            // (update-membership's) shows something that makes sense.
            E::NotListMember => Self::bad(
                "NO_SUCH_USER",
                "That user is not in the list.",
                "588e7f72-c744-4a61-b180-d354e912bda2",
            ),
            E::RemoteUserNotAllowed => Self::bad(
                "REMOTE_USER_NOT_ALLOWED",
                "Not allowed to load the remote user's list",
                "53858f1b-3315-4a01-81b7-db9b48d4b79a",
            ),
            E::Store(e) => ApiError::internal(e),
            E::Internal(e) => ApiError::internal(e),
        }
    }
}

impl ApiError {
    /// The same error under another id (Misskey gives some errors an id per endpoint).
    pub fn with_id(mut self, id: &'static str) -> Self {
        self.0.id = id;
        self
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.0.code = code;
        self
    }
}

impl std::ops::Deref for ApiError {
    type Target = ApiErrorBody;
    fn deref(&self) -> &ApiErrorBody {
        &self.0
    }
}

/// The body of an error response.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorFields<'a>,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    message: &'a str,
    code: &'static str,
    id: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<&'a ErrorInfo>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = *self.0;
        let body = ErrorBody {
            error: ErrorFields {
                message: &e.message,
                code: e.code,
                id: e.id,
                kind: e.kind,
                info: e.info.as_ref(),
            },
        };
        let mut resp = (e.status, axum::Json(body)).into_response();
        if e.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"Misskey\""),
            );
        }
        if let Some(secs) = e.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
