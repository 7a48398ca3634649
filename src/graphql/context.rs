//! Accessors for what resolvers need from the context: the state, the caller, the loader.

use async_graphql::Context;

use super::loader::RequestLoader;
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

static ANONYMOUS: Auth = Auth::Anonymous;

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        // Schema::build always registers the state; its absence is a programming error that
        // every test would reveal at once.
        self.data_unchecked::<AppState>()
    }

    fn auth(&self) -> &Auth {
        self.data_opt::<Auth>().unwrap_or(&ANONYMOUS)
    }

    fn loader(&self) -> &RequestLoader {
        self.data_unchecked::<RequestLoader>()
    }
}
