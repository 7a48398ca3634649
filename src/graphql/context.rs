//! Accessors for what resolvers need from the context: the state, the caller, the loader.
//!
//! Every read of the caller goes through [`ContextExt::auth`], which is what lets a fan-out
//! group (`realtime::fanout`) resolve an event once for subscribers of different users: during
//! such a [`NeutralPass`] the caller is anonymous and any resolver that asks who it is marks the
//! pass, so the group throws that result away and resolves per viewer instead.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::Context;

use crate::loader::RequestLoader;
use crate::{
    AppState,
    auth::{Auth, Viewer},
    error::AppResult,
};

pub trait ContextExt {
    fn state(&self) -> &AppState;
    fn auth(&self) -> &Auth;
    fn loader(&self) -> &RequestLoader;

    /// The signed-in caller, or UNAUTHENTICATED.
    fn viewer(&self) -> AppResult<Viewer> {
        self.auth().viewer()
    }

    /// The signed-in admin, or UNAUTHENTICATED / FORBIDDEN.
    fn admin(&self) -> AppResult<Viewer> {
        self.auth().admin()
    }
}

/// Put in a request's data (instead of an [`Auth`]) to resolve it for nobody in particular:
/// the caller reads as anonymous, and [`NeutralPass::viewer_was_read`] tells afterwards whether
/// any resolver asked for it, in which case the result must not be shared between users.
#[derive(Clone, Default)]
pub struct NeutralPass(Arc<AtomicBool>);

impl NeutralPass {
    /// Whether a resolver read the caller during this pass.
    pub fn viewer_was_read(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

static ANONYMOUS: Auth = Auth::Anonymous;

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        // Schema::build always registers the state; its absence is a programming error that
        // every test would reveal at once.
        self.data_unchecked::<AppState>()
    }

    fn auth(&self) -> &Auth {
        if let Some(pass) = self.data_opt::<NeutralPass>() {
            pass.0.store(true, Ordering::Release);
            return &ANONYMOUS;
        }
        self.data_opt::<Auth>().unwrap_or(&ANONYMOUS)
    }

    fn loader(&self) -> &RequestLoader {
        self.data_unchecked::<RequestLoader>()
    }
}
